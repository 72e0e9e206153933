export { createTestDatabase, uniquePrefix, testRedisUrl, adminUrl, type TestDatabase } from './databases.ts';
export { createTenantFixture, type TenantFixture } from './tenant-fixture.ts';
export { startStaticServer, type StaticRequest, type StaticServer, type StaticServerOptions, type InlineResponse } from './static-server.ts';
export { REPO_ROOT, SHARED_DATA } from './paths.ts';
export {
  startService,
  startStack,
  serviceNodeFlags,
  SERVICE_ENV,
  freePort,
  artifactDir,
  ALL_SERVICES,
  type ServiceName,
  type ServiceProcess,
  type Stack,
} from './service-processes.ts';
export { startFakeOpenAI, type FakeOpenAI } from './fake-openai-server.ts';
export { startE2eStack, deletePrefixKeys, type E2eStack } from './e2e-stack.ts';
export { apiClient, type ApiClient, type ApiResponse } from './api-client.ts';
export { startOtlpReceiver, decodeOtlpJson, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
