import { DomainError } from '../../core/errors.ts';

/**
 * What a SageMaker instance type means on this machine: a CPU budget. A job or
 * endpoint gets as many ONNX Runtime threads as the instance has vCPUs, capped at
 * the machine's cores. Accelerators do not exist here; GPU instance types run on
 * the CPU with their vCPU count.
 *
 * The vCPU count follows the instance size, as it does on AWS for the general
 * purpose (m, t), compute (c) and memory (r) families: medium and large 2,
 * xlarge 4, 2xlarge 8, 4xlarge 16, and so on. The table lists the common ones
 * explicitly; it is what the README documents.
 */
export const INSTANCE_TYPE_VCPUS: Readonly<Record<string, number>> = {
  'ml.t3.medium': 2,
  'ml.t3.large': 2,
  'ml.t3.xlarge': 4,
  'ml.t3.2xlarge': 8,
  'ml.m5.large': 2,
  'ml.m5.xlarge': 4,
  'ml.m5.2xlarge': 8,
  'ml.m5.4xlarge': 16,
  'ml.c5.large': 2,
  'ml.c5.xlarge': 4,
  'ml.c5.2xlarge': 8,
  'ml.c5.4xlarge': 16,
  'ml.p3.2xlarge': 8,
  'ml.g4dn.xlarge': 4,
};

const SIZE_VCPUS: Readonly<Record<string, number>> = { medium: 2, large: 2, xlarge: 4 };
const INSTANCE_TYPE = /^ml\.[a-z0-9-]+\.(medium|large|xlarge|(\d+)xlarge)$/;

export function instanceVcpus(instanceType: string): number {
  const listed = INSTANCE_TYPE_VCPUS[instanceType];
  if (listed !== undefined) return listed;
  const match = INSTANCE_TYPE.exec(instanceType);
  if (!match) {
    throw new DomainError('ValidationError', `Instance type ${JSON.stringify(instanceType)} is not a SageMaker instance type such as ml.m5.large`, {
      field: 'instanceType',
    });
  }
  return match[2] !== undefined ? 4 * Number(match[2]) : SIZE_VCPUS[match[1]];
}

/** ONNX Runtime threads for work on an instance of this type, on a machine with `cores` cores. */
export function threadBudget(instanceType: string, cores: number): number {
  return Math.max(1, Math.min(instanceVcpus(instanceType), cores));
}
