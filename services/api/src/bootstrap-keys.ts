import type { TenantRepository } from '@kbflow/db';
import type { Logger } from 'pino';
import type { ApiEnv } from './env.ts';

/**
 * Environment keys only bootstrap: the admin key (when set) is ensured as an
 * admin key of the `admin` tenant, the dev key (outside production) as the
 * `dev` tenant's. A key revoked through the API stays revoked: the env
 * cannot bring it back (the revocation is on its row, see
 * TenantRepository.bootstrapKey). In production the dev tenant never comes
 * to be: env.ts refuses a dev key there, and this skips it regardless.
 * Both tenants are created on the `enterprise` tier: the dev tenant is the
 * developer's own machine (benchmarks and the five-minute tour run on it),
 * the admin tenant the operator's.
 */
export async function bootstrapEnvKeys(
  env: Pick<ApiEnv, 'NODE_ENV' | 'KBFLOW_DEV_API_KEY' | 'KBFLOW_ADMIN_API_KEY'>,
  tenants: TenantRepository,
  log: Logger,
): Promise<void> {
  if (env.KBFLOW_DEV_API_KEY && env.NODE_ENV !== 'production') {
    const dev = await tenants.bootstrapKey('dev', env.KBFLOW_DEV_API_KEY, { keyName: 'KBFLOW_DEV_API_KEY', tier: 'enterprise' });
    if (dev.revoked) log.warn({ variable: 'KBFLOW_DEV_API_KEY' }, 'the dev key in the environment was revoked through the API and stays revoked');
  }
  if (env.KBFLOW_ADMIN_API_KEY) {
    const admin = await tenants.bootstrapKey('admin', env.KBFLOW_ADMIN_API_KEY, { keyName: 'KBFLOW_ADMIN_API_KEY', isAdmin: true, tier: 'enterprise' });
    if (admin.revoked)
      log.warn({ variable: 'KBFLOW_ADMIN_API_KEY' }, 'the admin key in the environment was revoked through the API and stays revoked: set a new one');
  }
}
