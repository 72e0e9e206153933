export {
  DependencyBreaker,
  BreakerOpenError,
  BREAKER_DEFAULTS,
  countsAsFailure,
  listBreakers,
  providerAndVectorBreakers,
  type StoreBreakerEnv,
  type BreakerName,
  type BreakerReport,
  type BreakerState,
  type DependencyBreakerOptions,
} from './dependency-breaker.ts';
