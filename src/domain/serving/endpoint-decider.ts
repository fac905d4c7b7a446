import type { Endpoint } from './endpoint.ts';

/** Instances serving each variant of the endpoint in this process (observed state); undefined when none serve it. */
export type ObservedVariants = ReadonlyMap<string, number> | undefined;

export interface VariantResize {
  variantName: string;
  from: number;
  to: number;
}

export type EndpointWork =
  | { kind: 'none' }
  /** Remove the endpoint once its requests in flight are answered. */
  | { kind: 'delete' }
  /** Start every instance of the serving deployment: a new endpoint, or any endpoint after a restart. */
  | { kind: 'bring-up' }
  /** Start the pending deployment beside the serving one, then switch traffic and drain the old (blue/green). */
  | { kind: 'deploy' }
  /** Start or stop instances of variants whose count differs from DesiredInstanceCount (dead ones included). */
  | { kind: 'resize'; changes: VariantResize[] }
  /** Every count is as desired: apply the weights and report the endpoint InService. */
  | { kind: 'settle' };

/**
 * What the endpoint reconciler does next for one endpoint, from its record (desired state)
 * and the instances that run (observed). One step at a time: the reconciler asks again once
 * the step is done, so a restart in the middle of any step resumes from what is observed.
 */
export function decideEndpointWork(endpoint: Endpoint, observed: ObservedVariants): EndpointWork {
  if (endpoint.status === 'Deleting') return { kind: 'delete' };
  if (endpoint.status === 'Failed') return { kind: 'none' };
  if (!observed) return { kind: 'bring-up' };
  if (endpoint.pendingDeployment) return { kind: 'deploy' };
  const changes = endpoint.productionVariants
    .map((variant) => ({ variantName: variant.variantName, from: observed.get(variant.variantName) ?? 0, to: variant.instanceCount }))
    .filter((change) => change.from !== change.to);
  if (changes.length > 0) return { kind: 'resize', changes };
  const weightsPending = endpoint.productionVariants.some((variant) => variant.currentWeight !== undefined);
  if (endpoint.status !== 'InService' || weightsPending) return { kind: 'settle' };
  return { kind: 'none' };
}

/**
 * The variant a request goes to: each with probability weight / total weight, `u` uniform in
 * [0, 1). Undefined when every weight is 0, which only TargetVariant can route around.
 */
export function pickVariant<T extends { weight: number }>(variants: readonly T[], u: number): T | undefined {
  const total = variants.reduce((sum, variant) => sum + Math.max(0, variant.weight), 0);
  if (total <= 0) return undefined;
  let point = u * total;
  for (const variant of variants) {
    point -= Math.max(0, variant.weight);
    if (point < 0) return variant;
  }
  return variants.findLast((variant) => variant.weight > 0);
}
