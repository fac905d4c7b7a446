import type { Prediction } from '../../domain/serving/predictions.ts';

/**
 * What every endpoint instance is, whatever runs the model: it can be pinged,
 * closed, given up on, and it says when it dies. The registry, the health
 * checks and the reconciler see only this.
 */
export interface InstanceBase {
  readonly modelName: string;
  readonly variantName: string;
  /** Resolves when the worker's loop answers; a health check races it against a timeout. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Called once if the worker dies while the instance is open (a crash, or it was killed). */
  onExit(listener: (reason: string) => void): void;
  /** False once the worker has died: its requests were refused, and it takes no more. */
  readonly alive: boolean;
  /**
   * Gives up on the instance at once, as a crash would: its requests are refused, `onExit`
   * listeners are told, and the worker ends. For health checks that give up on an
   * instance, and for tests that kill one.
   */
  terminate(): Promise<void>;
}

export interface Classification {
  predictions: Prediction[];
  /** SageMaker's ModelLatency: from the request reaching the instance to its answer (decoding and batching wait included). */
  modelLatencyMs: number;
  /** The request's share of the time the model ran for its batch: what the instance was busy with. */
  computeMs: number;
}

/** An ONNX classifier in a worker thread: Kennel reads the request, and the instance classifies images. */
export interface ClassifierInstance extends InstanceBase {
  readonly kind: 'classifier';
  readonly classCount: number;
  classify(image: Uint8Array, topK: number): Promise<Classification>;
}

/** An InvokeEndpoint request as the container gets it: the body and headers, untouched. */
export interface ScriptRequest {
  body: Uint8Array;
  contentType?: string;
  accept?: string;
  customAttributes?: string;
}

export interface ScriptResponse {
  body: Uint8Array;
  contentType: string;
  /** From the request reaching the instance to its answer, its wait behind others included. */
  modelLatencyMs: number;
  /** What the script itself took (input_fn to output_fn): what the instance was busy with. */
  computeMs: number;
}

/** An inference script in a worker process: the request goes to the script as it came. */
export interface ScriptInstance extends InstanceBase {
  readonly kind: 'script';
  invoke(request: ScriptRequest): Promise<ScriptResponse>;
}

export type Instance = ClassifierInstance | ScriptInstance;
