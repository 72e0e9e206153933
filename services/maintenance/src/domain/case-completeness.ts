/**
 * Whether a case carries what a support engineer (and knowledge generation)
 * needs: a subject, a description long enough to say something, a status,
 * and for a resolved or closed case, its resolution.
 */
export interface CompletenessRules {
  /** Characters (after trimming) below which a description counts as missing. */
  minDescriptionLength: number;
  /** Statuses (compared lower-cased and trimmed) that require a resolution. */
  resolvedStatuses: readonly string[];
}

export const DEFAULT_COMPLETENESS_RULES: CompletenessRules = {
  minDescriptionLength: 20,
  resolvedStatuses: ['resolved', 'closed', 'done', 'fixed'],
};

export interface CompletenessInput {
  subject: string;
  description: string;
  resolution: string;
  status: string;
}

export interface Completeness {
  complete: boolean;
  /** Field names in a stable order: subject, description, status, resolution. */
  missingFields: string[];
}

/** The fields a case lacks under the rules; `complete` when there are none. */
export function assessCompleteness(input: CompletenessInput, rules: CompletenessRules = DEFAULT_COMPLETENESS_RULES): Completeness {
  const missing: string[] = [];
  if (input.subject.trim() === '') missing.push('subject');
  if (input.description.trim().length < rules.minDescriptionLength) missing.push('description');
  const status = input.status.trim().toLowerCase();
  if (status === '') missing.push('status');
  if (rules.resolvedStatuses.includes(status) && input.resolution.trim() === '') missing.push('resolution');
  return { complete: missing.length === 0, missingFields: missing };
}
