export { parseEnv, EnvError, formatEnvIssues } from './parse-env.ts';
export { VECTOR_STORE_DEFAULTS, WORKER_LOCK_DEFAULTS } from './defaults.ts';
export { booleanFromString, commonEnvShape, commonOptions, type CommonEnv, DEFAULT_QUEUE_PREFIX } from './common-env.ts';
export {
  vectorStoreEnvShape,
  providerEnvShape,
  workerEnvShape,
  scraperEnvShape,
  breakerEnvShape,
  vectorStoreOptions,
  providerOptions,
  breakerOptions,
  workerRuntimeOptions,
  type VectorStoreEnv,
  type ProviderEnv,
  type WorkerEnv,
  type BreakerEnv,
} from './service-env.ts';
export { weakSecretReason, MIN_PRODUCTION_KEY_LENGTH } from './secret-strength.ts';
export { tracingEnvShape, tracingOptions, TRACE_SAMPLERS, type TraceSampler, type TracingEnv } from './tracing-env.ts';
export {
  applyProfile,
  profileEnvShape,
  profileTable,
  PROFILE_NAMES,
  PROFILE_ROWS,
  type ProfileName,
  type ProfiledService,
  type ProfileRow,
} from './profiles.ts';
