import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { UrlFetchPolicy } from '../domain/serving/url-policy.ts';
import type { ArtifactStore } from '../store/artifacts.ts';
import type { Store } from '../store/store.ts';
import type { PlatformEvents } from './events.ts';

/** Everything the control plane needs from the outside, passed in once. */
export interface ControlDeps {
  store: Store;
  artifacts: ArtifactStore;
  clock: Clock;
  logger: Logger;
  events: PlatformEvents;
  /** Which URLs endpoints may fetch images from for `application/json {"url": ...}` requests. */
  urlFetchPolicy: UrlFetchPolicy;
  /** ONNX Runtime threads per serving session; 0 lets ONNX Runtime choose. */
  servingThreads: number;
}
