import { describe, expect, it } from '@jest/globals';
import { articleDocument, NO_RESOLUTION_RECORDED, renderArticleMarkdown } from './article-document.ts';

const article = {
  title: 'VPN drops with error 809',
  summary: 'The VPN client disconnects after a few minutes on office Wi-Fi.',
  symptoms: ['Error 809 in the VPN client', 'Reconnecting works\nfor a while'],
  resolutionSteps: ['Update the VPN client to 5.2', 'Disable Wi-Fi power saving'],
};
const linked = [
  { externalId: 'T-1', subject: 'VPN drops every 10 minutes' },
  { externalId: 'T-2', subject: 'Error 809 on Wi-Fi' },
];

describe('renderArticleMarkdown', () => {
  it('writes the title, summary, symptoms, numbered steps and the linked cases', () => {
    expect(renderArticleMarkdown(article, linked)).toBe(
      [
        '# VPN drops with error 809',
        '',
        'The VPN client disconnects after a few minutes on office Wi-Fi.',
        '',
        '## Symptoms',
        '',
        '- Error 809 in the VPN client',
        '- Reconnecting works for a while',
        '',
        '## Resolution',
        '',
        '1. Update the VPN client to 5.2',
        '2. Disable Wi-Fi power saving',
        '',
        '## Linked cases (2)',
        '',
        '- T-1: VPN drops every 10 minutes',
        '- T-2: Error 809 on Wi-Fi',
        '',
      ].join('\n'),
    );
  });

  it('says that no resolution is recorded instead of inventing one', () => {
    expect(renderArticleMarkdown({ ...article, resolutionSteps: [] }, linked)).toContain(`## Resolution\n\n${NO_RESOLUTION_RECORDED}\n`);
  });
});

describe('articleDocument', () => {
  it('chunks the body under the article title and hashes title and summary too', () => {
    const body = renderArticleMarkdown(article, linked);
    const doc = articleDocument({ title: article.title, summary: article.summary, body });
    expect(doc.markdown).toBe(body);
    expect(doc.chunks.length).toBeGreaterThan(0);
    expect(doc.chunks[0]!.heading.startsWith('VPN drops with error 809')).toBe(true);
    expect(articleDocument({ title: article.title, summary: article.summary, body }).contentHash).toBe(doc.contentHash);
    expect(articleDocument({ title: article.title, summary: 'Another summary.', body }).contentHash).not.toBe(doc.contentHash);
  });
});
