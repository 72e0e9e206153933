/** The fields of a case its writer owns (kbflow's own columns are set by case sync). */
export interface CaseFields {
  externalId: string;
  subject: string;
  description: string;
  resolution: string;
  status: string;
  priority: string;
  product: string;
  channel: string;
  metadata: Record<string, unknown>;
}
