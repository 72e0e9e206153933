import { collectDefaultMetrics, Registry } from 'prom-client';

/** A registry per process, labelled with the service name, with Node's process metrics. */
export interface Metrics {
  registry: Registry;
  service: string;
}

/**
 * Creates the process's metric registry. Every metric kbflow defines is
 * registered here with the `kbflow_` prefix; default Node metrics come along.
 */
export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return { registry, service };
}
