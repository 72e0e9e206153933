export { createLogger, type Logger } from './logger.ts';
export { createMetrics, type Metrics } from './metrics.ts';
export { startHealthServer, runChecks, readinessStatus, type HealthServer, type ReadinessCheck } from './health-server.ts';
export { ShutdownManager } from './shutdown-manager.ts';
export { startupFailed } from './startup.ts';
