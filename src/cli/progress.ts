import cliProgress from 'cli-progress';
import type { PlatformEvent, PlatformEvents } from '../control/events.ts';

/**
 * Progress bars for long work (generating images, embedding, epochs), driven by
 * platform events. On a terminal they redraw in place; elsewhere (CI logs, pipes)
 * a plain line is printed at each quarter of the work instead.
 */
export class ProgressDisplay {
  private readonly multibar: cliProgress.MultiBar | undefined;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  /** Last quarter printed per bar when not on a terminal. */
  private readonly printedQuarter = new Map<string, number>();

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {
    if (stream.isTTY) {
      this.multibar = new cliProgress.MultiBar(
        { stream, format: '{title} |{bar}| {value}/{total} {info}', barsize: 30, hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  update(key: string, title: string, value: number, total: number, info = ''): void {
    if (!this.multibar) {
      this.printPlain(key, title, value, total, info);
      return;
    }
    const payload = { title: title.padEnd(20), info };
    let bar = this.bars.get(key);
    if (!bar) {
      bar = this.multibar.create(total, value, payload);
      this.bars.set(key, bar);
    }
    bar.setTotal(total);
    bar.update(value, payload);
  }

  /** Feeds training and embedding events into bars; returns the unsubscribe function. */
  follow(events: PlatformEvents): () => void {
    return events.subscribe((event: PlatformEvent) => {
      if (event.kind === 'training-progress') {
        this.update(`${event.jobName}:${event.step}`, 'Embedding images', event.done, event.total);
      } else if (event.kind === 'training-epoch') {
        const m = event.metrics;
        const info = `train loss ${m.trainLoss.toFixed(3)}  valid loss ${m.validationLoss.toFixed(3)}  valid acc ${(100 * m.validationAccuracy).toFixed(1)}%`;
        this.update(`${event.jobName}:epochs`, 'Training epochs', m.epoch, event.epochs, info);
      }
    });
  }

  stop(): void {
    this.multibar?.stop();
  }

  private printPlain(key: string, title: string, value: number, total: number, info: string): void {
    const quarter = total > 0 ? Math.floor((4 * value) / total) : 4;
    if (quarter <= (this.printedQuarter.get(key) ?? 0)) return;
    this.printedQuarter.set(key, quarter);
    this.stream.write(`${title}: ${value}/${total} ${info}`.trimEnd() + '\n');
  }
}
