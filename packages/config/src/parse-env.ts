import { PermanentError } from '@kbflow/errors';
import type { z } from 'zod';
import { applyProfile, type ProfiledService } from './profiles.ts';

/** Thrown when the environment does not satisfy a service's schema. */
export class EnvError extends PermanentError {
  readonly issues: string[];

  constructor(issues: string[]) {
    super('invalid_environment', `invalid environment:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.issues = issues;
  }
}

/**
 * Lists every invalid key of a failed parse, one line each. Values are never
 * printed: a bad value may be a secret.
 */
export function formatEnvIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const key = issue.path.join('.') || '(root)';
    return `${key}: ${issue.message}`;
  });
}

/**
 * Parses the environment once against a zod schema. Throws {@link EnvError}
 * naming every bad variable; services catch it in `main.ts` and exit 1.
 * A service passes its name so that KBFLOW_PROFILE fills in its own values
 * (see profiles.ts) before the schema's defaults apply.
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  source: Record<string, string | undefined> = process.env,
  opts: { service?: ProfiledService } = {},
): z.infer<S> {
  // Empty strings mean "unset" for every variable: compose and Kubernetes
  // often render an absent optional value as "".
  const cleaned: Record<string, string> = {};
  for (const [key, value] of Object.entries(applyProfile(source, opts.service))) {
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const result = schema.safeParse(cleaned);
  if (!result.success) throw new EnvError(formatEnvIssues(result.error));
  return result.data;
}
