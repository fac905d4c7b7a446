import { StringDecoder } from 'node:string_decoder';

/** Longer lines are cut, so a function printing without newlines cannot exhaust Kennel's memory. */
export const MAX_LINE_CHARS = 64 * 1024;
/** What one invocation (or init) keeps of its log; later lines are counted, not kept. */
export const MAX_LOG_CHARS = 1024 * 1024;

/** Splits one output stream into UTF-8 lines, holding a partial line until its newline comes. */
class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private line = '';

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      this.append(text.slice(start, newline));
      this.flush();
      start = newline + 1;
    }
    this.append(text.slice(start));
  }

  end(): void {
    this.append(this.decoder.end());
    if (this.line !== '') this.flush();
  }

  private append(text: string): void {
    if (this.line.length < MAX_LINE_CHARS + 1) this.line += text.slice(0, MAX_LINE_CHARS + 1 - this.line.length);
  }

  private flush(): void {
    const line = this.line.length > MAX_LINE_CHARS ? `${this.line.slice(0, MAX_LINE_CHARS)}… [line cut at ${MAX_LINE_CHARS} characters]` : this.line;
    this.line = '';
    this.emit(line);
  }
}

/**
 * A function's log as it comes out of its process (stdout and stderr, line by
 * line), attributed to invocations by the marker the bootstrap writes after
 * each one: `<marker> <request id>`, at the end of a line, with ` exit` after
 * it when the runtime is about to exit (an uncaught exception). Lines are held
 * until taken; whoever takes them decides which invocation they belong to.
 */
export type MarkerSeen = 'end' | 'exit';

export class InvocationLog {
  private lines: string[] = [];
  private size = 0;
  private dropped = 0;
  private seen: { requestId: string; kind: MarkerSeen } | undefined;
  private waiter: { requestId: string; resolve: (seen: MarkerSeen | undefined) => void; timer: NodeJS.Timeout } | undefined;
  private readonly streams: LineSplitter[] = [];
  /** Whether any marker has come: a runtime that writes none gets a short drain instead of a wait. */
  markersSeen = false;

  constructor(readonly marker: string) {}

  /** A stream of the process's output; each gets its own splitter, so partial lines of two streams never mix. */
  stream(): { push(chunk: Buffer): void; end(): void } {
    const splitter = new LineSplitter((line) => this.line(line));
    this.streams.push(splitter);
    return splitter;
  }

  /** The lines so far, which are then forgotten. */
  take(): string[] {
    const lines = this.lines;
    if (this.dropped > 0) lines.push(`[${this.dropped} more lines were not kept: the log is over ${MAX_LOG_CHARS} characters]`);
    this.lines = [];
    this.size = 0;
    this.dropped = 0;
    return lines;
  }

  /**
   * Resolves with the marker for `requestId` once it has come (at once if it
   * has), or undefined after `timeoutMs`: a runtime that writes no marker, or
   * output still on its way.
   */
  waitForMarker(requestId: string, timeoutMs: number): Promise<MarkerSeen | undefined> {
    if (this.seen?.requestId === requestId) {
      const { kind } = this.seen;
      this.seen = undefined;
      return Promise.resolve(kind);
    }
    this.cancelWait();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiter = { requestId, resolve, timer };
    });
  }

  /** The process is gone: what it left without a newline is a line too. */
  end(): void {
    for (const stream of this.streams) stream.end();
  }

  private cancelWait(): void {
    if (this.waiter === undefined) return;
    clearTimeout(this.waiter.timer);
    this.waiter.resolve(undefined);
    this.waiter = undefined;
  }

  private line(line: string): void {
    const at = line.lastIndexOf(`${this.marker} `);
    if (at === -1) return this.keep(line);
    const [requestId, flag] = line.slice(at + this.marker.length + 1).split(' ');
    const kind: MarkerSeen = flag === 'exit' ? 'exit' : 'end';
    if (at > 0) this.keep(line.slice(0, at));
    this.markersSeen = true;
    if (this.waiter?.requestId === requestId) {
      clearTimeout(this.waiter.timer);
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve(kind);
    } else {
      this.seen = { requestId, kind };
    }
  }

  private keep(line: string): void {
    if (this.size + line.length > MAX_LOG_CHARS) {
      this.dropped += 1;
      return;
    }
    this.lines.push(line);
    this.size += line.length + 1;
  }
}
