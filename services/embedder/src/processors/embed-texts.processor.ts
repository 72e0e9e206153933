import type { Embedder } from '@kbflow/embeddings';
import type { JobData } from '@kbflow/queues';

/** Embeds free texts for `POST /v1/embed` (nothing is stored). */
export async function embedTexts(
  data: JobData<'embed', 'embed-texts'>,
  deps: { embedder: Embedder },
): Promise<{ model: string; dimensions: number; embeddings: number[][] }> {
  const embeddings = await deps.embedder.embed(data.texts, { tenantId: data.tenantId });
  return { model: deps.embedder.model, dimensions: deps.embedder.dimensions, embeddings };
}
