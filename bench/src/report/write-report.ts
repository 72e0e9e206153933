import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderChart } from './chart.ts';
import { renderMarkdown } from './markdown.ts';
import type { RunReport } from './types.ts';

/**
 * The newest earlier report in `dir` of the same kind (quick runs are
 * compared with quick runs, full with full), or undefined.
 */
async function previousReport(dir: string, current: RunReport): Promise<{ report: RunReport; file: string } | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir))
      .filter((n) => n.endsWith('.json'))
      .sort()
      .reverse();
  } catch {
    return undefined;
  }
  for (const file of names) {
    try {
      const report = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as RunReport;
      if (report.version === 1 && report.startedAt < current.startedAt && report.quick === current.quick && report.results.length > 0) return { report, file };
    } catch {
      // an unreadable or foreign file: not a report
    }
  }
  return undefined;
}

/** Writes `<stamp>.json`, `<stamp>.svg` and `<stamp>.md` to `dir`; returns their paths. */
export async function writeReport(report: RunReport, dir: string, stamp: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const previous = await previousReport(dir, report);
  const json = path.join(dir, `${stamp}.json`);
  const svg = path.join(dir, `${stamp}.svg`);
  const md = path.join(dir, `${stamp}.md`);
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  const files = [json];
  if (report.results.length > 0) {
    await writeFile(svg, await renderChart(report));
    files.push(svg);
  }
  await writeFile(md, renderMarkdown(report, previous, report.results.length > 0 ? path.basename(svg) : undefined));
  files.push(md);
  return files;
}
