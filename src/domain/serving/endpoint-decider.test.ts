import type { BackboneRef } from '../training/training-job.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeployedVariant, Endpoint } from './endpoint.ts';
import { decideEndpointWork, pickVariant, type EndpointWork, type ObservedVariants } from './endpoint-decider.ts';

function variant(variantName: string, instanceCount: number, patch: Partial<DeployedVariant> = {}): DeployedVariant {
  return {
    variantName,
    modelName: 'm',
    image: 'kennel/image-classifier:latest',
    instanceType: 'ml.m5.large',
    instanceCount,
    weight: 1,
    backbone: { digest: 'b' } as BackboneRef,
    artifacts: { headModel: 'h', labels: 'l' },
    ...patch,
  };
}

function endpoint(patch: Partial<Endpoint>): Endpoint {
  return { name: 'e', endpointConfigName: 'c', productionVariants: [variant('A', 2)], status: 'InService', tags: [], createdAtMs: 0, lastModifiedAtMs: 0, ...patch };
}

const observed = (entries: [string, number][]): ObservedVariants => new Map(entries);

describe('decideEndpointWork', () => {
  const cases: [string, Endpoint, ObservedVariants, EndpointWork][] = [
    ['a new endpoint starts everything', endpoint({ status: 'Creating' }), undefined, { kind: 'bring-up' }],
    ['an endpoint recorded InService but not running here (a restart) starts everything', endpoint({}), undefined, { kind: 'bring-up' }],
    ['Deleting wins over everything', endpoint({ status: 'Deleting' }), observed([['A', 1]]), { kind: 'delete' }],
    ['Failed is left alone', endpoint({ status: 'Failed' }), undefined, { kind: 'none' }],
    ['in service as desired: nothing to do', endpoint({}), observed([['A', 2]]), { kind: 'none' }],
    ['a dead instance is replaced', endpoint({}), observed([['A', 1]]), { kind: 'resize', changes: [{ variantName: 'A', from: 1, to: 2 }] }],
    [
      'a capacity update grows one variant and shrinks another',
      endpoint({ status: 'Updating', productionVariants: [variant('A', 3), variant('B', 1)] }),
      observed([['A', 1], ['B', 2]]),
      { kind: 'resize', changes: [{ variantName: 'A', from: 1, to: 3 }, { variantName: 'B', from: 2, to: 1 }] },
    ],
    ['an update whose counts are met settles', endpoint({ status: 'Updating' }), observed([['A', 2]]), { kind: 'settle' }],
    ['new weights settle even while InService', endpoint({ productionVariants: [variant('A', 2, { weight: 2, currentWeight: 1 })] }), observed([['A', 2]]), { kind: 'settle' }],
    [
      'a pending deployment is deployed once the serving one runs',
      endpoint({ status: 'Updating', pendingDeployment: { endpointConfigName: 'next', productionVariants: [variant('B', 1)], startedAtMs: 0 } }),
      observed([['A', 2]]),
      { kind: 'deploy' },
    ],
    [
      'after a restart mid-update the serving deployment comes up first',
      endpoint({ status: 'Updating', pendingDeployment: { endpointConfigName: 'next', productionVariants: [variant('B', 1)], startedAtMs: 0 } }),
      undefined,
      { kind: 'bring-up' },
    ],
  ];
  for (const [name, record, running, expected] of cases) {
    it(name, () => assert.deepEqual(decideEndpointWork(record, running), expected));
  }
});

describe('pickVariant', () => {
  const variants = [
    { name: 'A', weight: 3 },
    { name: 'B', weight: 1 },
    { name: 'C', weight: 0 },
  ];
  it('gives each variant its share of [0, 1) by weight, never one of weight 0', () => {
    assert.equal(pickVariant(variants, 0)?.name, 'A');
    assert.equal(pickVariant(variants, 0.7499)?.name, 'A');
    assert.equal(pickVariant(variants, 0.75)?.name, 'B');
    assert.equal(pickVariant(variants, 0.9999999)?.name, 'B');
  });
  it('picks nothing when every weight is 0', () => {
    assert.equal(pickVariant([{ weight: 0 }], 0.5), undefined);
  });
});
