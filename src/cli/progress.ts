import cliProgress from 'cli-progress';
import type { PlatformEvent, PlatformEvents } from '../control/events.ts';

/**
 * Progress bars for long work (generating images, embedding, epochs), driven by
 * platform events. On a terminal they redraw in place; elsewhere (CI logs, pipes)
 * cli-progress prints nothing, so a plain line is printed when a bar completes.
 */
export class ProgressDisplay {
  private readonly multibar: cliProgress.MultiBar;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly interactive: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {
    this.interactive = Boolean(stream.isTTY);
    this.multibar = new cliProgress.MultiBar(
      {
        stream,
        format: '{title} |{bar}| {value}/{total} {info}',
        barsize: 30,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        noTTYOutput: false,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  update(key: string, title: string, value: number, total: number, info = ''): void {
    let bar = this.bars.get(key);
    if (!bar) {
      bar = this.multibar.create(total, 0, { title: title.padEnd(22), info });
      this.bars.set(key, bar);
    }
    bar.setTotal(total);
    bar.update(value, { info });
    if (!this.interactive && value >= total) {
      this.stream.write(`${title}: ${value}/${total} ${info}\n`);
    }
  }

  /** Feeds training and embedding events into bars; returns the unsubscribe function. */
  follow(events: PlatformEvents): () => void {
    return events.subscribe((event: PlatformEvent) => {
      if (event.kind === 'training-progress') {
        this.update(`${event.jobName}:${event.phase}`, `Embedding images`, event.done, event.total);
      } else if (event.kind === 'training-epoch') {
        const m = event.metrics;
        const info = `train loss ${m.trainLoss.toFixed(3)}  valid loss ${m.validationLoss.toFixed(3)}  valid acc ${(100 * m.validationAccuracy).toFixed(1)}%`;
        this.update(`${event.jobName}:epochs`, 'Training epochs', m.epoch, event.epochs, info);
      }
    });
  }

  stop(): void {
    this.multibar.stop();
  }
}
