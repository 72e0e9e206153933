export {
  DependencyBreaker,
  BreakerOpenError,
  countsAsFailure,
  listBreakers,
  providerAndVectorBreakers,
  type StoreBreakerEnv,
  type BreakerReport,
  type BreakerState,
  type DependencyBreakerOptions,
} from './dependency-breaker.ts';
