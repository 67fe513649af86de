/**
 * One finding per problem: a block's finding that comes back in every model holding it, or in identical
 * instances, is reported once and names the others; findings that differ in their numbers stay apart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeText } from './project-helper';
import { buildModel, dense } from './rules/ir-builder';
import { combineFindings, mergeRepeatedFindings, modelPart, type ModelPart } from '../../src/analysis/merge-findings';
import type { Finding } from '../../src/shared/findings';
import type { ModelIR } from '../../src/shared/ir';
import { defined } from '../defined';

const BLOCK = `import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.b1 = ConvBlock(3, 16)
        self.b2 = ConvBlock(16, 32)

    def forward(self, x):
        return self.b2(self.b1(x))


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x)).relu()
`;

describe('repeated findings', () => {
  it("keep the block's own message (even when the model holding it comes first) and name the paths it is held under", async () => {
    const r = await analyzeText(BLOCK, '/m/block.py');
    expect(r.findings.map((f) => `${f.code}@${f.range.start.line + 1}`)).toEqual(['GL302@17']);
    const finding = defined(r.findings[0]);
    expect(finding.message).toMatch(/^'conv' adds a bias right before BatchNorm 'bn', .* \(also in Net: b1, b2\)$/);
    expect(finding.related.map((x) => `${x.message}@${x.location.range.start.line + 1}`)).toEqual(["BatchNorm 'bn' cancels the bias@18", 'also in Net: b1, b2@4']);
    expect(finding.fixes.length).toBeGreaterThan(0);
  });

  it('name identical instances by their call', async () => {
    const path = join(__dirname, '../fixtures/rules/GL302/bad_torch_block_in_models.py');
    const r = await analyzeText(readFileSync(path, 'utf8'), path);
    expect(r.findings.map((f) => f.message.replace(/^.*Set bias=False\./, ''))).toEqual([' (also in Net() at line 28: b1, b2; Net() at line 32: b1, b2)']);
    expect(defined(r.findings[0]).related.slice(1).map((x) => x.location.range.start.line + 1)).toEqual([28, 32]);
  });

  it('stay apart when the instances give different numbers', async () => {
    const text = `import torch.nn as nn


class Net(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(width, 256)
        self.fc2 = nn.Linear(256, 10)
        nn.init.normal_(self.fc1.weight, mean=0.0, std=1.0)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


small = Net(784)
large = Net(64)
`;
    const r = await analyzeText(text, '/m/widths.py');
    expect(r.findings.map((f) => `${f.code}@${f.range.start.line + 1} ${/is ([\d.]+x)/.exec(f.message)?.[1]} ${/\(instance (.*)\)$/.exec(f.message)?.[1]}`)).toEqual([
      'GL203@9 19.8x Net(784), line 15',
      'GL203@9 5.7x Net(64), line 16',
    ]);
  });
});

/**
 * combineFindings combines apart the parts of models whose findings meet no other's, and keeps that
 * result with the part (issue 10: an edit of one model of a long file reads the others' no more). It must
 * give what combining every finding of the file at once gives: the same findings, merged the same way, in
 * the same order, whatever parts came before.
 */
describe('combined per model part', () => {
  const FILE_PATH = '/m/models.py';
  const models = ['a', 'b', 'c', 'd'].map((name, i) => buildModel({ name, file: FILE_PATH, layers: [dense(8, { line: 2 * i }), dense(8, { line: 2 * i + 1 })] }));
  const lookup = (list: readonly ModelIR[]) => {
    const byId = new Map(list.map((m) => [m.id, m]));
    return (f: Finding) => byId.get(f.modelId);
  };

  const findingArb = (model: ModelIR, list: readonly ModelIR[]): fc.Arbitrary<Finding> =>
    fc.record({ code: fc.constantFrom('GL101', 'GL102'), line: fc.nat({ max: 5 }), character: fc.nat({ max: 1 }), message: fc.constantFrom("'dense' saturates", "'net.dense' saturates", 'too wide'), echo: fc.boolean(), other: fc.nat({ max: 3 }) }).map(
      ({ code, line, character, message, echo, other }): Finding => ({
        code,
        name: code === 'GL101' ? 'saturating-activation-stack' : 'init-activation-mismatch',
        message,
        severity: 'warning',
        file: FILE_PATH,
        range: { start: { line, character }, end: { line, character: character + 5 } },
        related: [],
        fixes: [],
        whatIf: null,
        // Now and then a finding about another model than the part's (a block's finding seen from a model holding it).
        modelId: other === 0 ? list[(list.indexOf(model) + 1) % list.length]!.id : model.id,
        ...(echo ? { echoes: [{ file: FILE_PATH, range: { start: { line: line + 1, character: 0 }, end: { line: line + 1, character: 3 } } }] } : {}),
      }),
    );
  const partsArb = (list: readonly ModelIR[]) => fc.array(fc.constantFrom(...list).chain((model) => fc.array(findingArb(model, list), { maxLength: 4 }).map((findings) => modelPart(model, findings))), { maxLength: 6 });

  /** All the parts' findings combined at once, as the file's findings were before parts were combined apart. */
  function atOnce(parts: readonly ModelPart[], modelOf: (f: Finding) => ModelIR | undefined): Finding[] {
    const findings = parts.flatMap((p) => p.findings);
    const direct = new Set(findings.filter((f) => !f.echoes).map((f) => `${f.code}:${f.range.start.line}`));
    const kept = findings.filter((f) => !f.echoes || !direct.has(`${f.code}:${f.range.start.line}`));
    return mergeRepeatedFindings(kept, modelOf).sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character || a.code.localeCompare(b.code));
  }

  it('equals combining every finding at once, also with parts combined alone before, among other parts and other models', () => {
    const scenario = fc.nat({ max: models.length - 1 }).chain((changed) => {
      // The next analysis has a new copy of one model (built elsewhere now): parts that name it must not keep what they said of the old one.
      const next = models.map((m, i) => (i === changed ? { ...m, instance: { label: `${m.name}(2)`, file: FILE_PATH, range: m.range } } : m));
      return fc.tuple(partsArb(models), partsArb(next), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), fc.constant(next));
    });
    fc.assert(
      fc.property(scenario, ([before, added, keep, next]) => {
        expect(combineFindings(before, lookup(models))).toEqual(atOnce(before, lookup(models)));
        // Parts of the models that stayed are the same parts in the next analysis.
        const parts = [...before.filter((p, i) => keep[i] && next.includes(p.model)), ...added];
        expect(combineFindings(parts, lookup(next))).toEqual(atOnce(parts, lookup(next)));
      }),
      { numRuns: 500, seed: 20261204 },
    );
  });

  it('says where else a problem is as the other model is now, not as it was when the part was first combined', () => {
    const [a, b] = [models[0]!, models[1]!];
    const range = { start: { line: 0, character: 4 }, end: { line: 0, character: 9 } };
    const about = (model: ModelIR): Finding => ({ code: 'GL101', name: 'saturating-activation-stack', message: "'dense' saturates", severity: 'warning', file: FILE_PATH, range, related: [], fixes: [], whatIf: null, modelId: model.id });
    const part = modelPart(a, [about(a), about(b)]);
    expect(combineFindings([part], lookup(models)).map((f) => f.message)).toEqual(["'dense' saturates (also in b)"]);
    const next = [a, { ...b, instance: { label: 'b(2)', file: FILE_PATH, range: b.range } }];
    expect(combineFindings([part], lookup(next)).map((f) => f.message)).toEqual(["'dense' saturates (also in b(2) at line 1)"]);
  });
});
