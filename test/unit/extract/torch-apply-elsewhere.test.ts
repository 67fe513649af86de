/**
 * `self.scorer = Scorer(features=64)` then `self.scorer.apply(wide_normal)` in runner.py, with the model
 * in net.py and the init function in inits.py: the instance runner.py builds gets the weights the
 * function sets, and findings land on the model's layers (the initializer's own line is in another file).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../../src/analysis/api';
import { analyzeFiles } from '../project-helper';
import { defined } from '../../defined';

const dir = join(__dirname, '../../fixtures/constructs/apply_elsewhere');
const read = (name: string) => readFileSync(join(dir, name), 'utf8');
const files = { '/p/net.py': read('net.py'), '/p/inits.py': read('inits.py'), '/p/runner.py': read('runner.py') };
const codes = (r: FileResult | undefined) => defined(r).findings.map((f) => `${f.code}@${f.range.start.line + 1}`);

describe('an init function another file applies to the instance it builds', () => {
  it('gives the Linear layers N(0, 5): GL203 on both, at their lines in net.py, with no edit into another file', async () => {
    const [net, inits, runner] = await analyzeFiles(files);
    const layers = defined(defined(net).models[0]).layers.filter((l) => l.kind === 'dense');
    expect(layers.map((l) => `${l.kernelInit?.name ?? '-'}:${String(l.kernelInit?.params.std)}:${l.kernelInit?.range === null ? 'no line' : 'a line'}`)).toEqual(['random_normal:5:no line', 'random_normal:5:no line']);
    expect(codes(net)).toEqual(['GL203@7', 'GL203@9']);
    expect(defined(net).findings.every((f) => f.fixes.every((fix) => fix.edits.every((e) => e.file === '/p/net.py')))).toBe(true);
    expect(codes(inits)).toEqual([]);
    expect(codes(runner)).toEqual([]);
  });

  it('stays silent without the apply, and when the function draws variance-preserving weights', async () => {
    const without = await analyzeFiles({ ...files, '/p/runner.py': files['/p/runner.py'].replace('        self.scorer.apply(wide_normal)\n', '') });
    expect(without.flatMap((r) => r.findings)).toEqual([]);
    const he = await analyzeFiles({ ...files, '/p/inits.py': files['/p/inits.py'].replace("nn.init.normal_(module.weight, mean=0.0, std=5.0)", "nn.init.kaiming_normal_(module.weight, nonlinearity='relu')") });
    expect(he.flatMap((r) => r.findings)).toEqual([]);
  });
});
