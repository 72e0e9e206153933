import { breakerEnvShape, breakerOptions, commonEnvShape, parseEnv, scraperEnvShape, workerEnvShape, workerRuntimeOptions } from '@kbflow/config';
import { z } from 'zod';

export const SERVICE = 'scraper';

export const scraperEnvSchema = z.object({
  ...commonEnvShape,
  ...workerEnvShape(9101, 8),
  ...scraperEnvShape,
  ...breakerEnvShape,
});

export type ScraperEnv = z.infer<typeof scraperEnvSchema>;

export function loadEnv(source: Record<string, string | undefined> = process.env): ScraperEnv {
  return parseEnv(scraperEnvSchema, source, { service: SERVICE });
}

/** The scraper's options, from its environment: the only place besides the schema that names its variables. */
function scraperConfig(env: ScraperEnv, uid: number | undefined = process.getuid?.()) {
  // Refused here, at start-up, rather than at the first browser page.
  if (env.KBFLOW_BROWSER_SANDBOX === 'on' && uid === 0) {
    throw new Error(
      'KBFLOW_BROWSER_SANDBOX=on, but the scraper runs as root and Chromium refuses its sandbox as root: run it as a non-root user or set KBFLOW_BROWSER_SANDBOX=auto',
    );
  }
  return {
    runtime: { service: SERVICE, ...workerRuntimeOptions(env), dbPoolSize: Math.min(env.KBFLOW_WORKER_CONCURRENCY + 2, 20) },
    concurrency: env.KBFLOW_WORKER_CONCURRENCY,
    fetch: {
      allowPrivateNetworks: env.KBFLOW_ALLOW_PRIVATE_NETWORKS,
      maxBytes: env.KBFLOW_MAX_PAGE_BYTES,
      timeoutMs: env.KBFLOW_FETCH_TIMEOUT_MS,
      userAgent: env.KBFLOW_USER_AGENT,
    },
    maxRedirects: env.KBFLOW_MAX_REDIRECTS,
    browser: { executablePath: env.KBFLOW_CHROMIUM_PATH, sandbox: env.KBFLOW_BROWSER_SANDBOX, breaker: breakerOptions(env).browser },
    maxDocumentPages: env.KBFLOW_MAX_DOCUMENT_PAGES,
    robotsCacheMs: env.KBFLOW_ROBOTS_CACHE_MS,
    hostDefaults: { maxConcurrency: env.KBFLOW_HOST_MAX_CONCURRENCY, minDelayMs: env.KBFLOW_HOST_MIN_DELAY_MS, maxBackoffMs: env.KBFLOW_HOST_MAX_BACKOFF_MS },
    sitemap: { maxBytes: env.KBFLOW_SITEMAP_MAX_BYTES, maxFiles: env.KBFLOW_SITEMAP_MAX_FILES },
  };
}

export type ScraperConfig = ReturnType<typeof scraperConfig>;

/** Parses the environment once (see loadEnv) and maps it to the scraper's options. */
export function loadConfig(source: Record<string, string | undefined> = process.env): ScraperConfig {
  return scraperConfig(loadEnv(source));
}
