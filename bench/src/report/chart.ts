import type { TopLevelSpec } from 'vega-lite';
import { fmt } from './markdown.ts';
import type { RunReport } from './types.ts';

/**
 * One bar pair per figure (kbflow and its baseline, in the figure's own unit
 * and scale), as an SVG. Rendered by Vega-Lite with Vega's headless SVG
 * renderer: no browser and no native canvas needed.
 */
export async function renderChart(report: RunReport): Promise<string> {
  let index = 0;
  const values = report.results.flatMap((result) =>
    result.figures.flatMap((f) => {
      const figure = `${result.title}: ${f.label} (${f.unit}, ${f.better} is better)${f.baseline ? `; baseline: ${f.baseline.label}` : ''}`;
      const at = index++;
      const rows = [{ figure, at, who: 'kbflow', order: 0, value: f.value.median, label: `${fmt(f.value.median)} ${f.unit}` }];
      if (f.baseline) rows.push({ figure, at, who: 'baseline', order: 1, value: f.baseline.value.median, label: `${fmt(f.baseline.value.median)} ${f.unit}` });
      return rows;
    }),
  );
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `kbflow next to its baselines, ${report.startedAt.slice(0, 10)}${report.quick ? ' (quick run)' : ''}`, anchor: 'start' },
    data: { values },
    facet: {
      row: {
        field: 'figure',
        type: 'nominal',
        sort: { field: 'at' },
        header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top', labelFontWeight: 'bold', title: null },
      },
    },
    spec: {
      width: 520,
      layer: [
        {
          mark: { type: 'bar', height: 14 },
          encoding: {
            y: { field: 'who', type: 'nominal', sort: { field: 'order' }, axis: { title: null, labelLimit: 260 } },
            x: { field: 'value', type: 'quantitative', axis: { title: null, grid: false, labels: false, ticks: false } },
            color: { condition: { test: "datum.who === 'kbflow'", value: '#1f77b4' }, value: '#aaaaaa' },
          },
        },
        {
          mark: { type: 'text', align: 'left', dx: 4 },
          encoding: {
            y: { field: 'who', type: 'nominal', sort: { field: 'order' } },
            x: { field: 'value', type: 'quantitative' },
            text: { field: 'label' },
          },
        },
      ],
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    config: { view: { stroke: null }, facet: { spacing: 6 } },
  };
  // Loaded only here, after the benchmarks: vega-lite defines
  // Set.prototype.toJSON on import, which breaks Crawlee's event emitter
  // (@vladfrangu/async_event_emitter) when Crawlee is loaded after it.
  const { logger, None, parse, View } = await import('vega');
  const { compile } = await import('vega-lite');
  // Vega-Lite warns that the facets' independent scales share a field name; they are meant to.
  const quiet = logger(None);
  const view = new View(parse(compile(spec, { logger: quiet }).spec), { renderer: 'none', logLevel: None });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
