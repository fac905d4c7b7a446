import { DomainError } from '../../core/errors.ts';
import { resolveFrameworkImage } from './script-mode.ts';

/**
 * The container images Kennel can run. On SageMaker a training job names a
 * container image; Kennel runs no containers, so an image name selects one of
 * Kennel's own algorithms: the built-in image classifier, or script mode for
 * SageMaker's framework images (see script-mode.ts), which runs the user's
 * entry point with this machine's interpreter.
 */
export const IMAGE_CLASSIFIER_REPOSITORY = 'kennel/image-classifier';
export const IMAGE_CLASSIFIER_TAGS = ['latest', '1'] as const;
/** The documented name of the built-in image classifier (training and inference). */
export const IMAGE_CLASSIFIER_IMAGE = `${IMAGE_CLASSIFIER_REPOSITORY}:latest`;

export type Algorithm = 'image-classifier' | 'script';

/**
 * The algorithm an image name stands for. A registry host in front of the
 * repository (`000000000000.dkr.ecr.us-east-1.amazonaws.com/kennel/image-classifier:1`)
 * is accepted, so ECR-style URIs built by SDK helpers work too.
 */
export function resolveAlgorithm(image: string, field: string): Algorithm {
  const { repository, tag } = splitImage(image);
  if (repository === IMAGE_CLASSIFIER_REPOSITORY && (tag === undefined || (IMAGE_CLASSIFIER_TAGS as readonly string[]).includes(tag))) {
    return 'image-classifier';
  }
  if (resolveFrameworkImage(image)) return 'script';
  throw new DomainError(
    'ValidationError',
    `${field} ${JSON.stringify(image)} is not an image Kennel can run. Kennel runs ${IMAGE_CLASSIFIER_IMAGE} ` +
      `(also tagged :1), its built-in image classifier: a frozen ONNX backbone with a new head trained on class folders; ` +
      `and, in script mode, your entry point (sagemaker_program) on the framework images pytorch-training, tensorflow-training, ` +
      `kennel/python and kennel/node (any registry and tag), run with this machine's Python or Node.js.`,
    { field },
  );
}

/** An image name's repository and tag, without the registry host or a digest. */
export function splitImage(image: string): { repository: string; tag?: string } {
  const parts = image.split('/');
  // A first part with a dot or a colon is a registry host, as Docker reads image names.
  if (parts.length > 1 && /[.:]/.test(parts[0])) parts.shift();
  const path = parts.join('/');
  const at = path.indexOf('@');
  const withoutDigest = at === -1 ? path : path.slice(0, at);
  const colon = withoutDigest.lastIndexOf(':');
  return colon === -1 ? { repository: withoutDigest } : { repository: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1) };
}
