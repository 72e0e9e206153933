export {
  DependencyBreaker,
  BreakerOpenError,
  countsAsFailure,
  listBreakers,
  providerAndVectorBreakers,
  type BreakerThresholds,
  type BreakerReport,
  type BreakerState,
  type DependencyBreakerOptions,
} from './dependency-breaker.ts';
