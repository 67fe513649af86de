/**
 * A model whose construction reads a config dict with a key the code does not fix
 * (`opts.arch[opts.variant]`) is built once per entry: entries whose layer lists differ in length
 * each give their model (named after the entry), identical ones collapse, and a flag the entries
 * disagree on gives one model with the layer and one without. Twins that must stay silent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../../src/analysis/api';
import { analyzeFiles } from '../project-helper';
import { defined } from '../../defined';

const dir = join(__dirname, '../../fixtures/constructs/config_entries');
const presets = readFileSync(join(dir, 'presets.py'), 'utf8');
const tower = readFileSync(join(dir, 'tower.py'), 'utf8');
const run = readFileSync(join(dir, 'run.py'), 'utf8');

const analyze = async (p = presets, t = tower, r: string | null = run) => {
  const results = await analyzeFiles({ '/q/presets.py': p, '/q/tower.py': t, ...(r === null ? {} : { '/q/run.py': r }) });
  return defined(results[1]);
};
/**
 * Each finding's code, line, the instance it was found in ('-' when the class built one model) and,
 * after '+', the other models and instances the same problem is in.
 */
const codes = (r: FileResult) =>
  r.findings.map((f) => {
    const [, own, also] = /^(.*?)(?: \(also in (.*)\))?$/.exec(f.message) ?? [];
    const instance = /\(instance (.*), (?:line \d+|\w+\.py:\d+)\)$/.exec(own ?? '')?.[1] ?? '-';
    return `${f.code}@${String(f.range.start.line + 1)} ${instance}${also === undefined ? '' : ` + ${also}`}`;
  });
const TOWER = "Tower(spec['widths'], norm=spec['norm'])";
const layers = (r: FileResult, name: string) =>
  defined(r.models.find((m) => m.name === name), name).layers.map((l) => `${l.kind}${l.conditional ? '?' : ''}:${String(l.inFeatures ?? '-')}>${String(l.units ?? '-')}`);
const names = (r: FileResult) => r.models.map((m) => m.name);
const notes = (r: FileResult) => r.notices.map((n) => n.message);

describe('a config dict read with a key the code does not fix, entries of different lengths', () => {
  it('builds Scorer once per entry, every Linear -> BatchNorm1d found (GL302), each instance named after its entry', async () => {
    const r = await analyze();
    expect(names(r)).toEqual([`${TOWER} (config 'tiny')`, `${TOWER} (config 'wide')`, "Scorer(opts) (config 'tiny')", "Scorer(opts) (config 'wide')"]);
    expect(layers(r, "Scorer(opts) (config 'tiny')")).toEqual(['dense:->48', 'batchnorm:48>48', 'activation:->-', 'dense:48>5', 'batchnorm:5>5', 'activation:->-']);
    expect(layers(r, "Scorer(opts) (config 'wide')").filter((l) => l.startsWith('dense'))).toEqual(['dense:->256', 'dense:256>256', 'dense:256>128', 'dense:128>5']);
    // One Linear in four models (Tower per entry, and within Scorer per entry): one problem, reported once.
    expect(codes(r)).toEqual([
      `GL302@9 ${TOWER} (config 'tiny') + ${TOWER} (config 'wide') at line 23; Scorer(opts) (config 'tiny') at run.py:5: tower; Scorer(opts) (config 'wide') at run.py:5: tower`,
    ]);
    expect(notes(r)).toContain("Line 22: opts.arch[opts.variant]: the key is not known; Scorer(opts) is built once per entry ('tiny', 'wide')");
    expect(notes(r).some((n) => n.includes('agree on'))).toBe(false);
  });

  it('stays silent when the Linear layers have no bias', async () => {
    const r = await analyze(presets, tower.replace('nn.Linear(widths[k - 1], widths[k])', 'nn.Linear(widths[k - 1], widths[k], bias=False)'));
    expect(codes(r)).toEqual([]);
    expect(names(r)).toContain("Scorer(opts) (config 'wide')");
  });

  it('builds one model per entry when the flag differs: BatchNorm in one, none in the other', async () => {
    const r = await analyze(presets.replace("'norm': True, 'drop': 0.3", "'norm': False, 'drop': 0.3"));
    expect(layers(r, "Scorer(opts) (config 'wide')").some((l) => l.startsWith('batchnorm'))).toBe(false);
    expect(layers(r, "Scorer(opts) (config 'tiny')").filter((l) => l.startsWith('batchnorm'))).toEqual(['batchnorm:48>48', 'batchnorm:5>5']);
    // The wide entry without normalization: four Tanh layers in a row, which GL101 reads as a deep saturating stack.
    expect(codes(r)).toEqual([`GL302@9 ${TOWER} (config 'tiny') + Scorer(opts) (config 'tiny') at run.py:5: tower`, `GL101@12 ${TOWER} (config 'wide') + Scorer(opts) (config 'wide') at run.py:5: tower`]);
  });

  it('collapses entries that build the same model into one model named as the class', async () => {
    const same = presets.replace('[base, 256, 256, 128, 5]', '[base, 48, 5]');
    const r = await analyze(same);
    expect(names(r)).toEqual(['Tower', 'Scorer']);
    expect(codes(r)).toEqual(['GL302@9 - + Scorer: tower']);
  });

  it('forks a class nobody calls the same way, named after the class', async () => {
    const r = await analyze(presets, tower, null);
    expect(names(r)).toEqual([`${TOWER} (config 'tiny')`, `${TOWER} (config 'wide')`, "Scorer (config 'tiny')", "Scorer (config 'wide')"]);
  });

  it('reads more entries than the limit as what they agree on (widths of different lengths: unknown), and says so', async () => {
    const many = presets.replace("opts.arch = {", "opts.arch = {\n        'a': {'widths': [8, 4], 'norm': True},\n        'b': {'widths': [8, 4], 'norm': True},\n        'c': {'widths': [8, 4], 'norm': True},");
    const r = await analyze(many);
    expect(r.models.some((m) => m.name.includes('(config'))).toBe(false);
    expect(notes(r)).toContain("Line 22: opts.arch[opts.variant]: the key is not known; the dict has 5 entries ('a', 'b', 'c', 'tiny', 'wide'), more than the 4 Scorer(opts) is built for: read as what they agree on");
  });

  it('forks a class of another file whose builder reads the dict, noting the read at the class', async () => {
    const app = readFileSync(join(dir, 'app.py'), 'utf8');
    const [, , r] = await analyzeFiles({ '/q/presets.py': presets, '/q/tower.py': tower, '/q/app.py': app });
    const built = defined(r);
    expect(names(built)).toEqual(["App (config 'tiny')", "App (config 'wide')"]);
    expect(layers(built, "App (config 'wide')").filter((l) => l.startsWith('dense'))).toHaveLength(4);
    expect(notes(built)).toContain("Line 5: App: the key of opts.arch[opts.variant] (in code of another file) is not known; App is built once per entry ('tiny', 'wide')");
  });
});
