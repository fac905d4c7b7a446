import { join } from 'node:path';
import type { FunctionCode } from '../domain/functions/function.ts';
import { CODE_LIMITS } from '../domain/functions/function-config.ts';
import { lambdaError } from '../domain/functions/lambda-errors.ts';
import { ensureUnpacked, inspectPackage } from '../runtime/functions/function-package.ts';
import type { ControlDeps } from './deps.ts';

/** Where a function's code comes from: the zip itself (Code.ZipFile) or an object in Kennel's object store (Code.S3Bucket/S3Key). */
export type CodeSource = { zip: Uint8Array } | { s3Bucket: string; s3Key: string; s3ObjectVersion?: string };

/**
 * Deployment packages: checked and stored as content-addressed artifacts when
 * a function is created or updated, and unpacked once per distinct package
 * into the folder that environments run it from.
 */
export class FunctionCodeStore {
  readonly #deps: ControlDeps;

  constructor(deps: ControlDeps) {
    this.#deps = deps;
  }

  async accept(source: CodeSource): Promise<FunctionCode> {
    const zip = 'zip' in source ? source.zip : await this.#fromObjectStore(source);
    // A zip sent in the request is held to Lambda's 50 MB by the wire's body limit; one in the object store only by its unzipped size.
    const summary = await inspectPackage(zip, CODE_LIMITS.codeSizeUnzipped);
    const digest = await this.#deps.artifacts.put(zip);
    return { digest, sha256Base64: summary.sha256Base64, sizeBytes: summary.sizeBytes, unzippedBytes: summary.unzippedBytes };
  }

  /** The folder holding the unpacked code, unpacked first when needed. */
  unpacked(code: FunctionCode): Promise<string> {
    return ensureUnpacked(join(this.#deps.functions.codeDir, code.digest), () => this.#deps.artifacts.get(code.digest));
  }

  async #fromObjectStore(source: { s3Bucket: string; s3Key: string }): Promise<Uint8Array> {
    if (!this.#deps.objects.head(source.s3Bucket, source.s3Key)) {
      throw lambdaError(
        'ValidationError',
        'InvalidParameterValueException',
        `Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist. (s3://${source.s3Bucket}/${source.s3Key} is not in Kennel's object store)`,
        { field: 'S3Key' },
      );
    }
    return this.#deps.objects.get(source.s3Bucket, source.s3Key);
  }
}
