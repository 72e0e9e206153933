// Monitoring as shipped: the Grafana dashboard charts every kbflow_* metric
// the code registers (found in the code, so a new metric fails here until it
// is charted), with namespace and service variables; it ships to Kubernetes
// as a sidecar-labelled ConfigMap; the alert rules ship as a PrometheusRule
// that validates against its CRD schema, equal to compose's rule file, and
// promtool accepts both.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from '@kbflow/testing';
import { parse } from 'yaml';
import { prometheusRuleProblems } from './support/k8s-schema-validator.ts';

const DASHBOARD = path.join(REPO_ROOT, 'docker/grafana/dashboards/kbflow.json');
const K8S_DASHBOARD = path.join(REPO_ROOT, 'k8s/base/monitoring/kbflow-dashboard.json');
const RULES = path.join(REPO_ROOT, 'docker/prometheus/kbflow-alerts.rules.yml');
const PROMETHEUS_RULE = path.join(REPO_ROOT, 'k8s/base/monitoring/prometheusrule.yaml');

const temp = mkdtempSync(path.join(tmpdir(), 'kbflow-monitoring-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Every shipped TypeScript source file (tests, benchmarks and generated code aside). */
function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (name === 'node_modules' || name === 'generated') continue;
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.ts') && !/\.(test|int\.test|bench)\.ts$/.test(name)) out.push(full);
    }
  };
  for (const top of ['packages', 'services']) for (const pkg of readdirSync(path.join(REPO_ROOT, top))) walk(path.join(REPO_ROOT, top, pkg, 'src'));
  return out;
}

/**
 * The metrics the code registers: every prom-client constructor, with the
 * literal name it must carry. A constructor whose name is not a literal
 * fails the test, so no metric escapes the dashboard check.
 */
function registeredMetrics(): { names: Set<string>; unnamed: string[] } {
  const names = new Set<string>();
  const unnamed: string[] = [];
  for (const file of sourceFiles()) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/new (?:Counter|Gauge|Histogram|Summary)\s*(?:<[^>]*>)?\(\s*\{/g)) {
      const after = text.slice(match.index, match.index + 400);
      const name = /name:\s*'([a-z_:][a-z0-9_:]*)'/.exec(after)?.[1];
      if (name) names.add(name);
      else unnamed.push(`${path.relative(REPO_ROOT, file)}: ${after.split('\n', 1)[0]}`);
    }
  }
  return { names, unnamed };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  panels: { title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string }[] };
};
const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

describe('the Grafana dashboard', () => {
  it('charts every kbflow_* metric the code registers', () => {
    const { names, unnamed } = registeredMetrics();
    expect(unnamed).toEqual([]);
    const kbflow = [...names].filter((n) => n.startsWith('kbflow_'));
    expect(kbflow.length).toBeGreaterThanOrEqual(23);
    const charted = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(kbflow_[a-z0-9_]+?)(?:_bucket|_count|_sum)?\b/g)].map((m) => m[1]!)));
    expect(kbflow.filter((n) => !charted.has(n)).sort()).toEqual([]);
  });

  it('has namespace and service variables, and every kbflow_* query is narrowed by both', () => {
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(expect.arrayContaining(['datasource', 'namespace', 'service']));
    const selectors = exprs.flatMap((e) => [...e.matchAll(/kbflow_[a-z0-9_]+(\{[^}]*\})?/g)].map((m) => `${m[0]}`));
    expect(selectors.filter((s) => !(s.includes('namespace=~"$namespace"') && s.includes('service=~"$service"')))).toEqual([]);
  });

  it('ships to Kubernetes as the same JSON in a ConfigMap with the Grafana sidecar label', () => {
    expect(readFileSync(K8S_DASHBOARD, 'utf8')).toBe(readFileSync(DASHBOARD, 'utf8'));
    const kustomization = parse(readFileSync(path.join(REPO_ROOT, 'k8s/base/kustomization.yaml'), 'utf8')) as {
      configMapGenerator: { name: string; files: string[]; options: { labels: Record<string, string> } }[];
    };
    const generator = kustomization.configMapGenerator.find((g) => g.files.includes('monitoring/kbflow-dashboard.json'));
    expect(generator?.options.labels).toEqual(expect.objectContaining({ grafana_dashboard: '1' }));
  });
});

describe('the alert rules', () => {
  const ruleFile = parse(readFileSync(RULES, 'utf8')) as { groups: unknown[] };
  const prometheusRule = parse(readFileSync(PROMETHEUS_RULE, 'utf8')) as { kind: string; spec: { groups: unknown[] } };

  it("ship as a PrometheusRule that validates against its CRD schema and has the rule file's groups", () => {
    expect(prometheusRule.kind).toBe('PrometheusRule');
    expect(prometheusRuleProblems(prometheusRule)).toEqual([]);
    expect(prometheusRule.spec.groups).toEqual(ruleFile.groups);
    // The schema is enforced: a duration that is not a string is refused.
    const broken = structuredClone(prometheusRule) as { spec: { groups: { rules: { for?: unknown }[] }[] } };
    broken.spec.groups[0]!.rules[0]!.for = 120;
    expect(prometheusRuleProblems(broken)).toEqual([expect.stringContaining('/spec/groups/0/rules/0/for must be string')]);
  });

  it("pass promtool check rules, both the file and the PrometheusRule's groups", () => {
    const fromCr = path.join(temp, 'from-prometheusrule.yml');
    writeFileSync(fromCr, JSON.stringify({ groups: prometheusRule.spec.groups }));
    const output = execFileSync('promtool', ['check', 'rules', RULES, fromCr], { encoding: 'utf8' });
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
    const bad = path.join(temp, 'bad.yml');
    writeFileSync(bad, JSON.stringify({ groups: [{ name: 'x', rules: [{ alert: 'Broken', expr: 'sum by (queue (kbflow_jobs_total)' }] }] }));
    expect(() => execFileSync('promtool', ['check', 'rules', bad], { encoding: 'utf8', stdio: 'pipe' })).toThrow();
  });
});
