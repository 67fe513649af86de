/**
 * The probe builds a model through sub-modules defined in another file of the workspace (issue 11):
 * the layers the analyzer reads through them are built and measured, on the parent's lines.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../src/analysis/project';
import { runProbe } from '../../src/probe/run';
import { probeOptions, type ProbeResult } from '../../src/shared/probe';

const DIR = join(__dirname, '../fixtures/imported-modules');
let project: Project;

beforeAll(async () => {
  project = await Project.create();
  for (const name of ['blocks.py', 'sigmoid_net.py', 'relu_net.py']) project.setFile(name, readFileSync(join(DIR, name), 'utf8'));
});
afterAll(() => { project.dispose(); });

async function probe(name: string): Promise<ProbeResult> {
  const [model] = project.analyzeFile(name).models;
  if (!model) throw new Error(`no model in ${name}`);
  const outcome = await runProbe(model, probeOptions({ backend: 'wasm', steps: 2, seed: 1 }));
  if (!outcome.ok) throw new Error(`${outcome.error.kind}: ${outcome.error.message}`);
  return outcome.result;
}

describe('probing through sub-modules of another file', () => {
  it('the six sigmoid layers built in blocks.py vanish, measured on the parent\'s lines', async () => {
    const result = await probe('sigmoid_net.py');
    expect(result.layers.map((l) => l.line)).toEqual([10, 11, ...Array<number>(12).fill(13), 14]);
    expect(result.verdicts.map((v) => v.kind)).toContain('vanishing');
  });

  it('the clean twin (ReLU tower) does not', async () => {
    const result = await probe('relu_net.py');
    expect(result.layers).toHaveLength(15);
    expect(result.verdicts.map((v) => v.kind)).not.toContain('vanishing');
  });
});
