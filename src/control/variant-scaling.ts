/**
 * What Application Auto Scaling needs from endpoints, and nothing more: a
 * variant's instance counts, and a way to ask for another DesiredInstanceCount.
 * The endpoint service implements it; the autoscaler never touches instances.
 */
export interface VariantCapacity {
  /** DesiredInstanceCount: what the variant is asked to run. */
  desired: number;
  /** Instances running and healthy now (CurrentInstanceCount): what the metric is spread over. */
  healthy: number;
}

export interface VariantScaling {
  /** The variant's counts, or undefined when the endpoint or the variant does not exist (or is being deleted). */
  capacity(endpointName: string, variantName: string): VariantCapacity | undefined;
  /**
   * Asks the variant for `count` instances, as UpdateEndpointWeightsAndCapacities does: the
   * endpoint is Updating until they run. Throws DomainError when the endpoint cannot take an
   * update now (it is Creating, Updating to a new config, or Failed); the autoscaler retries later.
   */
  setDesiredInstances(endpointName: string, variantName: string, count: number): void;
}
