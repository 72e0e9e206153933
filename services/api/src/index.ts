export { createApp, mountV1Routes, type AppDeps, type KbflowApp } from './app.ts';
export { describeApi } from './openapi/describe-api.ts';
export { buildOpenApiDocument, API_VERSION } from './openapi/openapi-document.ts';
