import { describe, expect, it } from '@jest/globals';
import { addRequest, sourcesCommand } from './sources.command.ts';

describe('sources add', () => {
  it('builds the POST /v1/sources body from its arguments', () => {
    expect(
      addRequest([
        'http://docs.example/',
        '--cron',
        '0 */6 * * *',
        '--tz',
        'Europe/Paris',
        '--knowledge-base',
        'docs',
        '--max-pages',
        '50',
        '--include',
        '^/docs/',
        '--include',
        '^/api/',
        '--exclude',
        '\\.pdf$',
        '--ignore-robots',
        '--keep-unreached',
      ]),
    ).toEqual({
      type: 'site',
      url: 'http://docs.example/',
      schedule: { cron: '0 */6 * * *', tz: 'Europe/Paris' },
      knowledgeBase: 'docs',
      maxPages: 50,
      includePaths: ['^/docs/', '^/api/'],
      excludePaths: ['\\.pdf$'],
      respectRobots: false,
      deleteUnreached: false,
    });
    expect(addRequest(['http://docs.example/', '--every', '6h'])).toEqual({ type: 'site', url: 'http://docs.example/', schedule: { every: '6h' } });
  });

  it('passes a non-numeric count on as written, for the API to name the field', () => {
    expect(addRequest(['http://d.example/', '--every', '1h', '--max-depth', 'deep']).maxDepth).toBe('deep');
  });

  it('needs a URL and exactly one of --every and --cron', () => {
    expect(() => addRequest(['--every', '6h'])).toThrow(/usage/);
    expect(() => addRequest(['http://d.example/'])).toThrow(/usage/);
    expect(() => addRequest(['http://d.example/', '--every', '6h', '--cron', '0 * * * *'])).toThrow(/usage/);
    expect(() => addRequest(['http://d.example/', '--every', '6h', '--tz', 'UTC'])).toThrow(/--tz goes with --cron/);
  });
});

describe('sources subcommands', () => {
  const calls: [string, string][] = [];
  const call = async (method: string, path: string) => {
    calls.push([method, path]);
    if (path.startsWith('/v1/sources?'))
      return {
        status: 200,
        json: { sources: [{ id: 's1', url: 'http://d.example/', schedule: { every: '6h' }, knowledgeBase: 'default', nextRunAt: '2026-12-02T06:00:00.000Z' }] },
      };
    if (method === 'DELETE') return { status: 202, json: { taskId: 't9' } };
    return { status: 202, json: { taskId: 't1' } };
  };

  it('list, run and rm call the API and print what it answered', async () => {
    const lines: string[] = [];
    const wait = async () => ({
      state: 'completed',
      report: { new: 1, changed: 0, unchanged: 2, deleted: 0, failed: 0, bytesFetched: 300, durationMs: 1500, stopReason: 'done' },
    });
    expect(await sourcesCommand(['list'], call, (l) => lines.push(l), wait)).toBe(0);
    expect(await sourcesCommand(['run', 's1', '--wait'], call, (l) => lines.push(l), wait)).toBe(0);
    expect(await sourcesCommand(['rm', 's1', '--purge'], call, (l) => lines.push(l), wait)).toBe(0);
    expect(calls).toEqual([
      ['GET', '/v1/sources?limit=100'],
      ['POST', '/v1/sources/s1/runs'],
      ['DELETE', '/v1/sources/s1?purge=true'],
    ]);
    expect(lines).toEqual([
      's1  http://d.example/  every 6h  kb default',
      '    last run: none; next run: 2026-12-02T06:00:00.000Z',
      'run t1',
      'completed: new 1, changed 0, unchanged 2, deleted 0, failed 0, 300 bytes, 1.5 s, done',
      'removed; purge task t9',
    ]);
  });

  it('an unknown subcommand prints the usage', async () => {
    await expect(
      sourcesCommand(
        ['edit'],
        call,
        () => {},
        async () => ({}),
      ),
    ).rejects.toThrow(/usage/);
  });
});
