import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { Platform } from '../control/platform.ts';

export interface ApiDeps {
  platform: Platform;
  clock: Clock;
  logger: Logger;
  /** The secret and principal for a SigV4 access key id, or undefined for an unknown key. */
  lookupSecret: (accessKeyId: string) => { secretAccessKey: string; principal: string } | undefined;
}
