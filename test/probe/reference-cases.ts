/**
 * The PyTorch reference cases (scripts/reference/torch_profiles.py, committed in
 * test/fixtures/probe/reference/*.json) and the model each one's source reads as: shared by the tests
 * that hold the probe (reference-profiles.test.ts) and the prediction (prediction-vs-torch.test.ts) to them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Project } from '../../src/analysis/project';
import type { ModelIR } from '../../src/shared/ir';

export interface InputSpec {
  shape: number[];
  tokens?: number;
}
export interface ReferenceCase {
  name: string;
  source: string;
  model: string;
  inputs: InputSpec[];
  layout: 'channels_first' | 'channels_last';
  toleranceDecades?: number;
  /** What torch trained on: "mse", or the case's criteria joined by " + ". */
  loss: string;
  /** The loss the probe must name for a case with criteria of its own (torch_profiles.py, "losses"). */
  probeLoss?: string;
  batch: number;
  /** log10Ratio null: PyTorch gives the module exactly zero gradient at step 1 in every seed (behind a zero-initialized scale). */
  layers: { module: string; class: string; log10Ratio: number | null; std: number | null }[];
}
export interface ReferenceFile {
  generator: string;
  torch: string;
  cases: ReferenceCase[];
}

const folder = join(__dirname, '../fixtures/probe/reference');

/** Every reference file, by group (its name without .json). */
export const referenceGroups: { file: string; group: string; data: ReferenceFile }[] = readdirSync(folder)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ file, group: file.replace(/\.json$/, ''), data: JSON.parse(readFileSync(join(folder, file), 'utf8')) as ReferenceFile }));

/** The case's model as the analyzer reads its source, with the reference's input as an editor answer would give it. */
export function referenceModel(project: Project, group: string, index: number, c: ReferenceCase): ModelIR {
  const path = join(folder, `${group}-${index}.py`);
  project.setFile(path, c.source);
  const models = project.analyzeFile(path).models;
  const model = models.find((m) => m.name === c.model || m.exports.includes(c.model));
  if (!model) throw new Error(`${c.name}: the analyzer found no model ${c.model} (found: ${models.map((m) => m.name).join(', ') || 'none'})`);
  const [first] = c.inputs;
  if (!first) throw new Error(`${c.name}: no inputs`);
  // The analyzer's own guess of the input is tested elsewhere.
  return { ...model, inputGuess: { shape: first.shape, tokens: first.tokens !== undefined, layout: c.layout, source: 'user', evidence: 'reference case' } };
}
