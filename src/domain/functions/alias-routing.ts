import { LATEST, isVersionNumber } from './function-names.ts';
import { invalidParameterValue, lambdaError, validationException } from './lambda-errors.ts';

/**
 * Weighted aliases (Developer Guide, "Implement Lambda canary deployments using a weighted
 * alias"): an alias points at one version and may send a share of its traffic, 0.0 to 1.0,
 * to one other published version.
 */

export interface AliasRoutingConfiguration {
  AdditionalVersionWeights?: Readonly<Record<string, number>>;
}

const VERSION_KEY_CONSTRAINT =
  'Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, Member must not be null]';
const WEIGHT_CONSTRAINT =
  'Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]';

/**
 * CreateAlias / UpdateAlias `RoutingConfig` for an alias whose FunctionVersion is
 * `primaryVersion`. Returns the weights to store, or undefined when the request routes
 * everything to the primary version (no config, or an empty map).
 */
export function validateRoutingConfig(
  primaryVersion: string,
  routingConfig: AliasRoutingConfiguration | undefined,
  functionVersions: { publishedVersions: readonly string[]; functionArn: string },
): Record<string, number> | undefined {
  const weights = routingConfig?.AdditionalVersionWeights;
  if (weights === undefined) return undefined;
  const entries = Object.entries(weights);
  if (entries.length === 0) return undefined;
  if (entries.length > 1) {
    throw invalidParameterValue('Number of items in AdditionalVersionWeights cannot be greater than 1', 'RoutingConfig.AdditionalVersionWeights');
  }
  const [version, weight] = entries[0];
  const shown = `{${version}=${weight}}`;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
    throw validationException('RoutingConfig.AdditionalVersionWeights', shown, 'routingConfig.additionalVersionWeights', WEIGHT_CONSTRAINT);
  }
  if (!isVersionNumber(version) || version.length > 1024) {
    throw validationException('RoutingConfig.AdditionalVersionWeights', shown, 'routingConfig.additionalVersionWeights', VERSION_KEY_CONSTRAINT);
  }
  if (version === primaryVersion) {
    throw invalidParameterValue(
      `Invalid function version ${version}. Function version ${version} is already included in routing configuration.`,
      'RoutingConfig.AdditionalVersionWeights',
    );
  }
  if (primaryVersion === LATEST) {
    throw invalidParameterValue('$LATEST is not supported for an alias pointing to more than 1 version', 'FunctionVersion');
  }
  if (!functionVersions.publishedVersions.includes(version)) {
    throw lambdaError('NotFound', 'ResourceNotFoundException', `Function not found: ${functionVersions.functionArn}:${version}`, {
      field: 'RoutingConfig.AdditionalVersionWeights',
    });
  }
  return { [version]: weight };
}

/**
 * The version one invocation of the alias runs: the additional version with probability
 * its weight, `random` uniform in [0, 1); the primary version otherwise.
 */
export function pickAliasVersion(
  alias: { functionVersion: string; additionalVersionWeights?: Readonly<Record<string, number>> },
  random: number,
): string {
  let point = random;
  for (const [version, weight] of Object.entries(alias.additionalVersionWeights ?? {})) {
    if (point < weight) return version;
    point -= weight;
  }
  return alias.functionVersion;
}
