import { describe, expect, it } from '@jest/globals';
import { HashingEmbedder } from '@kbflow/embeddings';
import { detectPatterns, type PatternCase } from './knowledge-patterns.ts';

// Every case is filed through the same template, as GitHub issues are: without
// stripping it, the template alone would make them all look alike.
const template = (text: string) => `### Describe the bug\n\n${text}\n\n### Version\n\n2.1.0\n\n### How often?\n\nEvery time\n\n### Logs\n\n_No response_`;

let day = 0;
const make = (id: string, category: string | null, subject: string, text: string): PatternCase => ({
  id,
  category,
  subject,
  description: template(text),
  createdAt: new Date(Date.UTC(2024, 0, 1 + day++)),
});

const printer = (n: number) =>
  make(
    `p${n}`,
    'hardware',
    `Printer jams on duplex printing, tray ${n}`,
    `The office printer jams whenever duplex printing is on (tray ${n}); paper jam error E${n}.`,
  );
const vpn = (n: number) =>
  make(`v${n}`, 'network', `VPN disconnects with error 809 after ${n} minutes`, `VPN client disconnects with error 809 on office Wi-Fi after ${n} minutes.`);
const misc = [
  make('m1', 'hardware', 'Laptop battery swelling', 'The battery bulges under the keyboard.'),
  make('m2', 'hardware', 'Monitor flickers at 144 Hz', 'Flicker on the external display.'),
  make('m3', 'network', 'Cannot resolve intranet hostnames', 'DNS lookups of intranet names time out.'),
  make('m4', 'hardware', 'Keyboard keys stuck', 'Several keys do not register.'),
];

describe('detectPatterns', () => {
  it('finds one pattern per recurring problem, within its category, and leaves one-off cases out', async () => {
    const cases = [...[1, 2, 3, 4, 5, 6].map(printer), ...[1, 2, 3, 4, 5].map(vpn), ...misc];
    const { patterns, considered } = await detectPatterns(cases, new HashingEmbedder(), { minCases: 5, similarity: 0.6 });
    expect(considered).toBe(15);
    expect(patterns.map((p) => [p.category, p.members.map((m) => m.caseId).sort()])).toEqual([
      ['hardware', ['p1', 'p2', 'p3', 'p4', 'p5', 'p6']],
      ['network', ['v1', 'v2', 'v3', 'v4', 'v5']],
    ]);
    const [hardware] = patterns;
    expect(hardware!.caseIdsByAge).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    expect(hardware!.members.every((m) => m.similarity >= 0.6)).toBe(true);
  });

  it('never mixes categories in a pattern', async () => {
    // The same problem filed under two categories, three cases each: under 5 in either.
    const cases = [1, 2, 3, 4, 5, 6].map((n) => ({ ...printer(n), category: n <= 3 ? 'hardware' : 'other' }));
    const { patterns } = await detectPatterns(cases, new HashingEmbedder(), { minCases: 5, similarity: 0.6 });
    expect(patterns).toEqual([]);
  });

  it('skips cases case sync has not categorized yet', async () => {
    const cases = [...[1, 2, 3, 4, 5].map(printer), { ...printer(6), category: null }];
    const detection = await detectPatterns(cases, new HashingEmbedder(), { minCases: 5, similarity: 0.6 });
    expect(detection.skippedUncategorized).toBe(1);
    expect(detection.patterns[0]!.members.map((m) => m.caseId).sort()).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
  });

  it('strips the category template from the descriptions it hands to the writers', async () => {
    const cases = [1, 2, 3, 4, 5].map(printer);
    const { cleanDescriptions } = await detectPatterns(cases, new HashingEmbedder(), { minCases: 5, similarity: 0.6 });
    expect(cleanDescriptions.get('p2')).toBe('The office printer jams whenever duplex printing is on (tray 2); paper jam error E2.');
  });
});
