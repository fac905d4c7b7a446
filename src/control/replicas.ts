import type { Replica } from '../runtime/serving/replica.ts';

/** The replicas loaded in this process, by endpoint name. Observed state: it is rebuilt after a restart. */
export class ReplicaRegistry {
  private readonly replicas = new Map<string, Replica>();

  get(endpointName: string): Replica | undefined {
    return this.replicas.get(endpointName);
  }

  has(endpointName: string): boolean {
    return this.replicas.has(endpointName);
  }

  set(endpointName: string, replica: Replica): void {
    this.replicas.set(endpointName, replica);
  }

  async remove(endpointName: string): Promise<void> {
    const replica = this.replicas.get(endpointName);
    this.replicas.delete(endpointName);
    await replica?.close();
  }

  names(): string[] {
    return [...this.replicas.keys()];
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.names().map((name) => this.remove(name)));
  }
}
