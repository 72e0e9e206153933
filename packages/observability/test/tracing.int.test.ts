import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { REPO_ROOT, startOtlpReceiver } from '@kbflow/testing';

// "Off costs nothing" checked where it matters, in a fresh process: a
// resolve hook records every OpenTelemetry package the process loads while
// it imports what the services import and runs a span. @opentelemetry/api
// is not counted: prom-client depends on it (for exemplars) and has loaded
// it in every service since before tracing existed.
const PROBE = `
import { registerHooks } from 'node:module';
const loaded = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    const at = result.url.lastIndexOf('/node_modules/@opentelemetry/');
    if (at !== -1) loaded.add(result.url.slice(at + '/node_modules/'.length).split('/').slice(0, 2).join('/'));
    return result;
  },
});
const root = process.argv[1];
const observability = await import(root + '/packages/observability/src/index.ts');
await import(root + '/packages/queues/src/index.ts');
await import(root + '/packages/db/src/index.ts');
await import(root + '/packages/vector-store/src/index.ts');
await import(root + '/packages/embeddings/src/index.ts');
await import(root + '/services/api/src/app.ts');
const endpoint = process.argv[2];
const tracing = await observability.startTracing('probe', { sampler: 'parentbased_always_on', samplerRatio: 1, ...(endpoint ? { endpoint } : {}) });
const carrier = await observability.withSpan('probe span', {}, async () => observability.activeTraceCarrier());
await tracing?.shutdown();
process.stdout.write(JSON.stringify({ started: tracing !== undefined, carrier, loaded: [...loaded].filter((p) => p !== '@opentelemetry/api').sort() }));
`;

interface ProbeResult {
  started: boolean;
  carrier: { traceparent?: string };
  loaded: string[];
}

/** Runs the probe in a process of its own (asynchronously: the receiver of the second test answers from this one). */
function probe(endpoint?: string): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', PROBE, REPO_ROOT, ...(endpoint ? [endpoint] : [])], {
      cwd: path.join(REPO_ROOT, 'packages', 'observability'),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as ProbeResult) : reject(new Error(`probe exited ${code}: ${err}`))));
  });
}

describe('tracing', () => {
  it('without OTEL_EXPORTER_OTLP_ENDPOINT: no OpenTelemetry SDK module is loaded, no span made, no context carried', async () => {
    expect(await probe()).toEqual({ started: false, carrier: {}, loaded: [] });
  }, 60_000);

  it('with an endpoint: the SDK is loaded on demand, spans carry a W3C traceparent and are exported at shutdown', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const on = await probe(receiver.url);
      expect(on.started).toBe(true);
      expect(on.loaded).toEqual(
        expect.arrayContaining(['@opentelemetry/sdk-trace', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/context-async-hooks']),
      );
      const [, traceId, spanId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(on.carrier.traceparent ?? '') ?? [];
      expect(traceId).toBeDefined();
      expect(receiver.spans.map((s) => [s.service, s.name, s.traceId, s.spanId])).toEqual([['probe', 'probe span', traceId, spanId]]);
    } finally {
      await receiver.close();
    }
  }, 60_000);
});
