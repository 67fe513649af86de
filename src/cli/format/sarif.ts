/**
 * SARIF 2.1.0 for GitHub code scanning: every registry rule as a reportingDescriptor with help from
 * its docs, results with ruleId/ruleIndex/level, locations relative to %SRCROOT% (the working
 * folder), 1-based regions. Files that could not be analyzed and notices become tool notifications.
 */
import { pathToFileURL } from 'node:url';
import { SarifBuilder, SarifResultBuilder, SarifRuleBuilder, SarifRunBuilder } from 'node-sarif-builder';
import type { Log, Notification, Result } from 'sarif';
import type { Rule } from '../../analysis/rules/types';
import type { Severity } from '../../shared/findings';
import { whatItDoes } from '../rule-docs';
import { byPosition, type CheckReport, type CheckedFile, notebookPosition, oneBased } from '../report';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const SRCROOT = '%SRCROOT%';

export function sarifLevel(severity: Severity): Result.level {
  return severity === 'error' ? 'error' : severity === 'warning' ? 'warning' : 'note';
}

function ruleDescriptor(rule: Rule): SarifRuleBuilder {
  const { meta } = rule;
  const builder = new SarifRuleBuilder().initSimple({ ruleId: meta.code, shortDescriptionText: meta.summary, fullDescriptionText: whatItDoes(meta) });
  Object.assign(builder.rule, {
    name: meta.name,
    help: { text: meta.docs.trim() || meta.summary, markdown: meta.docs.trim() || meta.summary },
    defaultConfiguration: { level: sarifLevel(meta.defaultSeverity) },
    properties: { tags: ['gradient-lens', meta.category], precision: 'high', 'problem.severity': meta.defaultSeverity === 'error' ? 'error' : meta.defaultSeverity === 'warning' ? 'warning' : 'recommendation' },
  });
  return builder;
}

/** An artifact location: relative to %SRCROOT% when inside the working folder, else an absolute file URI. */
function artifactLocation(file: CheckedFile): { uri: string; uriBaseId?: string } {
  return file.displayPath.startsWith('/') ? { uri: pathToFileURL(file.displayPath).href } : { uri: encodeURI(file.displayPath), uriBaseId: SRCROOT };
}

function result(file: CheckedFile, finding: CheckedFile['findings'][number]): SarifResultBuilder {
  const span = oneBased(finding.range);
  let message = finding.message;
  if (file.cellStarts) {
    // SARIF has no notion of notebook cells: show the cell in the message and lines within it.
    const start = notebookPosition(file.cellStarts, finding.range.start.line);
    const end = notebookPosition(file.cellStarts, finding.range.end.line);
    message = `cell ${start.cell}: ${message}`;
    span.line = start.line;
    span.endLine = end.cell === start.cell ? end.line : start.line;
  }
  const builder = new SarifResultBuilder().initSimple({ level: sarifLevel(finding.severity), messageText: message, ruleId: finding.code });
  builder.setLocationArtifactUri(artifactLocation(file));
  builder.setLocationRegion({ startLine: span.line, startColumn: span.column, endLine: span.endLine, endColumn: Math.max(span.endColumn, 1) });
  return builder;
}

function notifications(report: CheckReport): Notification[] {
  const out: Notification[] = [];
  for (const problem of report.usageProblems) out.push({ level: 'error', message: { text: problem } });
  for (const file of report.files) {
    const physicalLocation = { artifactLocation: artifactLocation(file) };
    if (file.error !== null) out.push({ level: 'error', message: { text: `${file.displayPath}: ${file.error}` }, locations: [{ physicalLocation }] });
    for (const notice of file.notices) {
      const region = notice.range ? { region: { startLine: notice.range.start.line + 1, startColumn: notice.range.start.character + 1 } } : {};
      out.push({ level: notice.severity === 'error' ? 'error' : notice.severity === 'warning' ? 'warning' : 'note', message: { text: notice.message }, locations: [{ physicalLocation: { ...physicalLocation, ...region } }] });
    }
  }
  return out;
}

export function toSarifLog(report: CheckReport, rules: readonly Rule[], tool: { version: string; cwd: string }): Log {
  const run = new SarifRunBuilder().initSimple({ toolDriverName: 'gradient-lens', toolDriverVersion: tool.version });
  for (const rule of rules) run.addRule(ruleDescriptor(rule));
  for (const file of report.files) for (const finding of [...file.findings].sort(byPosition)) run.addResult(result(file, finding));
  Object.assign(run.run, {
    columnKind: 'utf16CodeUnits',
    originalUriBaseIds: { [SRCROOT]: { uri: pathToFileURL(tool.cwd.endsWith('/') ? tool.cwd : `${tool.cwd}/`).href } },
    invocations: [{ executionSuccessful: report.usageProblems.length === 0, toolExecutionNotifications: notifications(report) }],
  });
  run.run.tool.driver.semanticVersion = tool.version;
  const builder = new SarifBuilder({ $schema: SARIF_SCHEMA, version: '2.1.0', runs: [] });
  builder.addRun(run);
  const log = builder.buildSarifOutput();
  // The builder lists artifacts by bare uri; give them the same base as the results that point at them.
  for (const sarifRun of log.runs) {
    for (const artifact of sarifRun.artifacts ?? []) {
      if (artifact.location && !artifact.location.uri?.startsWith('file:')) artifact.location.uriBaseId = SRCROOT;
    }
  }
  return log;
}

export function formatSarif(report: CheckReport, rules: readonly Rule[], tool: { version: string; cwd: string }): string {
  return `${JSON.stringify(toSarifLog(report, rules, tool), null, 2)}\n`;
}
