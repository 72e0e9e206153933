// Writes src/generated/openapi.ts from the API's route registry (no server needed).
import { writeFile } from 'node:fs/promises';
import { describeApi } from '@kbflow/api';
import { renderTypes } from './render-types.ts';

const target = new URL('../src/generated/openapi.ts', import.meta.url);
await writeFile(target, await renderTypes(describeApi()));
process.stdout.write(`wrote ${target.pathname}\n`);
