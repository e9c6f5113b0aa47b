/**
 * The Grafana dashboard and the Prometheus alert rules in deploy/ are well-formed and query only
 * metrics the sidecar exports (so a renamed metric fails here, not in a customer's Grafana).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { METRIC_NAMES } from '../src/services/metrics.js';

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

/** Metric names a PromQL expression uses (identifiers followed by `{`, `[`, space or end, that look like ours). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b(dify_sso_[a-z0-9_]+)/g)].map((m) => m[1] as string);
}

const known = (name: string): boolean =>
  METRIC_NAMES.some((m) => name === m || name === `${m}_bucket` || name === `${m}_count` || name === `${m}_sum`) ||
  /^dify_sso_(process|nodejs)_[a-z0-9_]+$/.test(name);

test('dashboard: valid JSON, every panel queries known sidecar metrics through the datasource variable', () => {
  const dash = JSON.parse(readFileSync(root('deploy/grafana/dify-sso-sidecar.dashboard.json'), 'utf8')) as {
    uid: string;
    schemaVersion: number;
    panels: {
      id: number;
      title: string;
      datasource: { uid: string };
      gridPos: Record<string, number>;
      targets: { expr: string; refId: string }[];
    }[];
    templating: { list: { name: string }[] };
  };
  assert.equal(typeof dash.uid, 'string');
  assert.ok(dash.schemaVersion >= 36);
  assert.ok(dash.templating.list.some((v) => v.name === 'datasource'));
  assert.ok(dash.panels.length >= 6);
  const ids = new Set<number>();
  const used = new Set<string>();
  for (const p of dash.panels) {
    assert.ok(!ids.has(p.id), `panel id ${p.id} unique`);
    ids.add(p.id);
    assert.equal(p.datasource.uid, '${datasource}', p.title);
    for (const k of ['x', 'y', 'w', 'h']) assert.equal(typeof p.gridPos[k], 'number', `${p.title} gridPos.${k}`);
    assert.ok(p.targets.length > 0, p.title);
    for (const t of p.targets) {
      const names = metricsIn(t.expr);
      assert.ok(names.length > 0, `${p.title}: ${t.expr}`);
      for (const n of names) {
        assert.ok(known(n), `${p.title}: unknown metric ${n}`);
        used.add(n.replace(/_(bucket|count|sum)$/, ''));
      }
    }
  }
  for (const m of ['dify_sso_gate_decisions_total', 'dify_sso_logins_total', 'dify_sso_store_errors_total'])
    assert.ok(used.has(m), `dashboard shows ${m}`);
});

test('alert rules: valid Prometheus rule file shape, known metrics, severities and summaries', () => {
  const doc = parse(readFileSync(root('deploy/prometheus/dify-sso-alerts.yaml'), 'utf8')) as {
    groups: {
      name: string;
      rules: {
        alert: string;
        expr: string;
        for: string;
        labels: { severity: string };
        annotations: { summary: string };
      }[];
    }[];
  };
  assert.ok(Array.isArray(doc.groups) && doc.groups.length > 0);
  const names = new Set<string>();
  for (const g of doc.groups) {
    assert.equal(typeof g.name, 'string');
    for (const r of g.rules) {
      assert.match(r.alert, /^[A-Z][A-Za-z0-9]+$/);
      assert.ok(!names.has(r.alert), `${r.alert} unique`);
      names.add(r.alert);
      assert.match(r.for, /^\d+[smh]$/, `${r.alert}.for`);
      assert.ok(['critical', 'warning', 'info'].includes(r.labels.severity), `${r.alert}.severity`);
      assert.ok(r.annotations.summary.length > 10, `${r.alert}.summary`);
      assert.equal(r.expr.split('(').length, r.expr.split(')').length, `${r.alert}: balanced parentheses`);
      for (const n of metricsIn(r.expr)) assert.ok(known(n), `${r.alert}: unknown metric ${n}`);
    }
  }
  assert.ok(names.has('DifySsoStoreErrors') && names.has('DifySsoSidecarDown'));
});
