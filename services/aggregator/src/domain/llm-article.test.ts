import { describe, expect, it } from '@jest/globals';
import type { ChatMessage, ChatModel } from '@kbflow/embeddings';
import type { ArticleSourceCase } from './extractive-article.ts';
import { articlePrompt, parseArticleReply, writeArticle } from './llm-article.ts';

const cases: ArticleSourceCase[] = [1, 2, 3, 4, 5].map((n) => ({
  caseId: `c${n}`,
  externalId: `T-${n}`,
  subject: `VPN drops every ${n * 10} minutes on the office Wi-Fi`,
  description: `The VPN client disconnects with error 809 after ${n * 10} minutes. Reconnecting works for a while.`,
  resolution: n === 2 ? 'Updated the VPN client to 5.2 and disabled Wi-Fi power saving.' : '',
  similarity: 0.8,
}));

/** A chat model that answers with a fixed reply (or fails) and remembers what it was asked. */
function fakeChat(reply: string | Error): ChatModel & { asked: ChatMessage[][] } {
  const asked: ChatMessage[][] = [];
  return {
    model: 'fake',
    asked,
    complete: async (messages) => {
      asked.push(messages);
      if (reply instanceof Error) throw reply;
      return reply;
    },
  };
}

const GOOD = {
  title: 'VPN disconnects with error 809 on office Wi-Fi',
  summary: 'The VPN client drops with error 809 after some minutes on the office Wi-Fi.',
  symptoms: ['VPN disconnects with error 809', 'Reconnecting works only for a while'],
  resolutionSteps: ['Update the VPN client to 5.2', 'Disable Wi-Fi power saving'],
};

describe('writeArticle', () => {
  it('writes the extractive article when no chat model is configured', async () => {
    const written = await writeArticle('network', cases, undefined);
    expect(written.generatedBy).toBe('extractive');
    expect(written.fallbackReason).toBeUndefined();
    expect(written.draft.title).toMatch(/^VPN drops every \d+ minutes on the office Wi-Fi$/);
  });

  it('uses the model reply, also when fenced in Markdown, and sends the cases with their resolutions', async () => {
    const chat = fakeChat(`Here it is:\n\`\`\`json\n${JSON.stringify(GOOD)}\n\`\`\``);
    const written = await writeArticle('network', cases, chat);
    expect(written).toEqual({ draft: GOOD, generatedBy: 'llm' });
    const user = chat.asked[0]![1]!.content;
    expect(user).toContain('Category: network');
    expect(user).toContain('[2] T-2');
    expect(user).toContain('Resolution: Updated the VPN client to 5.2');
    expect(user).toContain('Resolution: (none recorded)');
  });

  it('falls back to the extractive article when the model fails or answers badly', async () => {
    for (const reply of [new Error('provider down'), 'no json here', JSON.stringify({ ...GOOD, title: '' }), '{"title": "x"']) {
      const written = await writeArticle('network', cases, fakeChat(reply));
      expect(written.generatedBy).toBe('extractive');
      expect(written.fallbackReason).toBeTruthy();
      expect(written.draft.symptoms.length).toBeGreaterThan(0);
    }
  });

  it('drops resolution steps the model gives when no case records a resolution', async () => {
    const unresolved = cases.map((c) => ({ ...c, resolution: '' }));
    const written = await writeArticle('network', unresolved, fakeChat(JSON.stringify(GOOD)));
    expect(written.generatedBy).toBe('llm');
    expect(written.draft.resolutionSteps).toEqual([]);
  });
});

describe('parseArticleReply', () => {
  it('caps symptoms at eight', () => {
    const draft = parseArticleReply(JSON.stringify({ ...GOOD, symptoms: Array.from({ length: 12 }, (_, i) => `symptom ${i}`) }));
    expect(draft.symptoms).toHaveLength(8);
  });
});

describe('articlePrompt', () => {
  it('stays within its budget however many cases a pattern has', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ ...cases[0]!, externalId: `T-${i}`, description: 'x '.repeat(2000) }));
    expect(articlePrompt('network', many).length).toBeLessThanOrEqual(12_000);
  });
});
