import type { Prisma } from './generated/client.ts';

/** The events a webhook may subscribe to (the same list as `@kbflow/queues`' WEBHOOK_EVENTS). */
export type WebhookEventName = 'run.started' | 'run.completed' | 'run.failed';

/** A webhook as stored (`sources.webhook`, `tasks.webhook`): the secret in full, since each delivery is signed with it. */
export interface WebhookConfig {
  url: string;
  events: WebhookEventName[];
  secret: string;
}

/** A webhook as the API shows it: the secret only by its last characters. */
export interface WebhookView {
  url: string;
  events: WebhookEventName[];
  secretHint: string;
}

/** The secret as GET shows it: `…` and its last 4 characters. */
export function webhookView(config: WebhookConfig | null | undefined): WebhookView | undefined {
  if (!config) return undefined;
  return { url: config.url, events: config.events, secretHint: `…${config.secret.slice(-4)}` };
}

/** A stored JSON value as a webhook, or null (the column is written only by the API, validated). */
export function asWebhook(value: Prisma.JsonValue | null | undefined): WebhookConfig | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as unknown as WebhookConfig) : null;
}
