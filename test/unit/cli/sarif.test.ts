/**
 * The SARIF output against what GitHub code scanning requires of an uploaded file
 * (docs.github.com, "SARIF support for code scanning"): SARIF 2.1.0 with $schema and version, a
 * tool driver with rules that carry id/name/short and full description/help/default level, and
 * results with ruleId/ruleIndex/level/message and physical locations relative to the checkout with
 * 1-based regions.
 */
import type { Log, ReportingDescriptor, Result } from 'sarif';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RULES } from '../../../src/analysis/rules/index';
import { BN_AFTER_RELU, fixtureTree, RELU_STACK, runCli, SIGMOID_STACK } from './run-cli';
import { defined } from '../../defined';

let log: Log;
let status: number | null;
let cleanup: () => void;

beforeAll(() => {
  const fixture = fixtureTree({ 'src/models/mlp.py': SIGMOID_STACK, 'src/models/net.py': BN_AFTER_RELU, 'src/clean.py': RELU_STACK, 'bad.py': Buffer.from([0, 1, 2]) });
  cleanup = fixture.cleanup;
  const run = runCli(['check', '--format', 'sarif', '.'], fixture.root);
  status = run.status;
  log = JSON.parse(run.stdout) as Log;
});
afterAll(() => { cleanup(); });

const nonEmptyText = (value: { text?: string } | undefined) => typeof value?.text === 'string' && value.text.trim().length > 0;

describe('SARIF output for GitHub code scanning', () => {
  it('is a SARIF 2.1.0 log with $schema and a single run of gradient-lens', () => {
    expect(status).toBe(2); // bad.py is unreadable; the rest is still reported
    expect(log.version).toBe('2.1.0');
    expect(log.$schema).toMatch(/^https:\/\/.*sarif.*2\.1\.0.*\.json$/);
    expect(log.runs).toHaveLength(1);
    expect(log.runs[0]!.tool.driver.name).toBe('gradient-lens');
    expect(log.runs[0]!.tool.driver.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('describes every registry rule with id, name, descriptions, help and default level', () => {
    const rules = log.runs[0]!.tool.driver.rules as ReportingDescriptor[];
    expect(rules.map((r) => r.id)).toEqual(RULES.map((r) => r.meta.code));
    for (const [index, rule] of rules.entries()) {
      const meta = RULES[index]!.meta;
      expect(rule.name).toBe(meta.name);
      expect(nonEmptyText(rule.shortDescription)).toBe(true);
      expect(nonEmptyText(rule.fullDescription)).toBe(true);
      expect(nonEmptyText(rule.help)).toBe(true);
      expect(rule.help?.markdown).toBe(meta.docs.trim());
      expect(['error', 'warning', 'note']).toContain(rule.defaultConfiguration?.level);
      expect(rule.properties?.tags).toContain(meta.category);
    }
  });

  it('gives each result ruleId, matching ruleIndex, level, message and a relative 1-based location', () => {
    const run = log.runs[0]!;
    const results = run.results as Result[];
    expect(results.length).toBeGreaterThanOrEqual(2);
    const rules = run.tool.driver.rules as ReportingDescriptor[];
    for (const result of results) {
      expect(rules[defined(result.ruleIndex)]!.id).toBe(result.ruleId);
      expect(['error', 'warning', 'note']).toContain(result.level);
      expect(nonEmptyText(result.message)).toBe(true);
      expect(result.locations).toHaveLength(1);
      const physical = defined(defined(result.locations)[0]!.physicalLocation);
      expect(physical.artifactLocation?.uri).toMatch(/^src\/models\/(mlp|net)\.py$/);
      expect(physical.artifactLocation?.uriBaseId).toBe('%SRCROOT%');
      const region = defined(physical.region);
      expect(region.startLine).toBeGreaterThanOrEqual(1);
      expect(region.startColumn).toBeGreaterThanOrEqual(1);
      expect(region.endLine).toBeGreaterThanOrEqual(defined(region.startLine));
      if (region.endLine === region.startLine) expect(region.endColumn).toBeGreaterThanOrEqual(defined(region.startColumn));
    }
    const gl301 = results.find((r) => r.ruleId === 'GL301');
    expect(gl301).toMatchObject({ level: 'note', locations: [{ physicalLocation: { artifactLocation: { uri: 'src/models/net.py' }, region: { startLine: 7, startColumn: 5 } } }] });
    expect(results.some((r) => r.ruleId === 'GL101' && r.level === 'warning')).toBe(true);
    expect(run.originalUriBaseIds?.['%SRCROOT%']?.uri).toMatch(/^file:\/\/\/.*\/$/);
  });

  it('reports the unreadable file as a tool execution notification, not as a result', () => {
    const notifications = log.runs[0]!.invocations?.[0]?.toolExecutionNotifications ?? [];
    const bad = notifications.find((n) => n.locations?.[0]?.physicalLocation?.artifactLocation?.uri === 'bad.py');
    expect(bad?.level).toBe('error');
    expect(bad?.message.text).toMatch(/binary/);
  });
});
