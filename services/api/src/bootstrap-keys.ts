import type { TenantRepository } from '@kbflow/db';
import type { Logger } from 'pino';

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
export async function bootstrapEnvKeys(keys: BootstrapKeys, tenants: TenantRepository, log: Logger): Promise<void> {
  if (keys.dev && !keys.production) {
    const dev = await tenants.bootstrapKey('dev', keys.dev.key, { keyName: keys.dev.variable, tier: 'enterprise' });
    if (dev.revoked) log.warn({ variable: keys.dev.variable }, 'the dev key in the environment was revoked through the API and stays revoked');
  }
  if (keys.admin) {
    const admin = await tenants.bootstrapKey('admin', keys.admin.key, { keyName: keys.admin.variable, isAdmin: true, tier: 'enterprise' });
    if (admin.revoked)
      log.warn({ variable: keys.admin.variable }, 'the admin key in the environment was revoked through the API and stays revoked: set a new one');
  }
}

/** A key from the environment, with the variable it came from: its row's name, so an operator sees where it came from. */
interface EnvKey {
  key: string;
  variable: string;
}

/** What {@link bootstrapEnvKeys} writes; env.ts fills it. */
export interface BootstrapKeys {
  production: boolean;
  dev?: EnvKey | undefined;
  admin?: EnvKey | undefined;
}
