// The committed client types must be what the API's registry generates now:
// a route, a field or a limit changed without `pnpm --filter @kbflow/client generate` fails here.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { describeApi } from '@kbflow/api';
import { renderTypes } from '../scripts/render-types.ts';

describe('packages/client/src/generated/openapi.ts', () => {
  it('is up to date with the OpenAPI document of the route registry', async () => {
    const committed = await readFile(new URL('../src/generated/openapi.ts', import.meta.url), 'utf8');
    const fresh = await renderTypes(describeApi());
    // Compared line by line so a failure shows what changed.
    expect(committed.split('\n')).toEqual(fresh.split('\n'));
  }, 60_000);
});
