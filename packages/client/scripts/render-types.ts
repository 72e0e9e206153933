import openapiTS, { astToString } from 'openapi-typescript';

const HEADER = `// Generated from kbflow's OpenAPI document by openapi-typescript: do not edit.
// Regenerate with \`pnpm --filter @kbflow/client generate\` after changing a route;
// packages/client/test/generated-types.int.test.ts fails while this file is stale.
`;

/** The TypeScript types of an OpenAPI document, as committed in src/generated/openapi.ts. */
export async function renderTypes(document: Record<string, unknown>): Promise<string> {
  const ast = await openapiTS(document as never, { alphabetize: true });
  return `${HEADER}\n${astToString(ast)}`;
}
