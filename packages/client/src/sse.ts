import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { components } from './generated/openapi.ts';

type Citation = components['schemas']['Citation'];

/** The events of `POST /v1/query {"stream": true}`, in the order the API sends them. */
export type QueryStreamEvent =
  | { event: 'citations'; data: { citations: Citation[]; mode: string; degraded?: string } }
  | { event: 'answer'; data: { text: string } }
  | { event: 'done'; data: { answeredBy: 'llm' | 'extractive'; timings: Record<string, number> } }
  | { event: 'error'; data: { error: { code: string; message: string } } };

/** Reads a `text/event-stream` body as parsed events (each `data` is JSON). */
export async function* readQueryStream(body: ReadableStream<Uint8Array>): AsyncGenerator<QueryStreamEvent> {
  const events = body.pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).pipeThrough(new EventSourceParserStream());
  const reader = events.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield { event: value.event ?? 'message', data: JSON.parse(value.data) } as QueryStreamEvent;
    }
  } finally {
    // Leaving the loop early (break, an exception) closes the connection: the API then cancels the job.
    await reader.cancel().catch(() => undefined);
  }
}
