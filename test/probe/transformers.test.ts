/**
 * Transformers as users write them, from source through the analyzer to the probe: a GPT-style LM
 * (custom Block calling nn.MultiheadAttention and a GELU MLP with pre-LN residuals, an
 * nn.Parameter(torch.zeros(1, T, D)) positional table), a pre-LN classifier on nn.TransformerEncoder
 * with nn.Embedding positions and mean pooling, and a post-LN encoder-decoder. The extracted layers are
 * torch's (names as named_modules() gives them), lint stays silent on these healthy models, the
 * propagation model predicts them without refusing, and the probe finds no problem. Issue 11 §4: the
 * residual loop's first/last gradient ratio is PyTorch's (test/fixtures/probe/reference/attention.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProbe } from '../../src/probe/run';
import { predictPropagation } from '../../src/shared/knowledge/propagation';
import type { LayerIR, ModelIR } from '../../src/shared/ir';
import { probeOptions } from '../../src/shared/probe';
import { analyzeFixture, analyzeText } from '../unit/project-helper';
import { defined } from '../defined';

const fixtures = join(__dirname, '../fixtures/probe');

async function modelOf(file: string, name: string): Promise<{ model: ModelIR; findings: string[] }> {
  const result = await analyzeFixture(join(fixtures, file));
  const model = result.models.find((m) => m.name === name);
  if (!model) throw new Error(`${file}: no model ${name}`);
  return { model, findings: result.findings.map((f) => `${f.code} ${f.message}`) };
}

const byName = (model: ModelIR, name: string): LayerIR => {
  const layer = model.layers.find((l) => l.name === name);
  if (!layer) throw new Error(`no layer ${name} in ${model.layers.map((l) => l.name).join(', ')}`);
  return layer;
};
const inputsOf = (model: ModelIR, name: string) => byName(model, name).inputs.map((id) => defined(model.layers.find((l) => l.id === id)).name);

async function probeHealthy(model: ModelIR): Promise<void> {
  const outcome = await runProbe(model, probeOptions({ backend: 'wasm', steps: 2, seed: 1, batchSize: 8 }));
  if (!outcome.ok) throw new Error(`${outcome.error.kind}: ${outcome.error.message}`);
  expect(outcome.result.verdicts.filter((v) => v.severity !== 'information').map((v) => v.message)).toEqual([]);
  const attention = outcome.result.layers.filter((l) => l.kind === 'attention');
  expect(attention.length).toBeGreaterThan(0);
  expect(attention.every((l) => l.gradNorm[0]! > 0 && Number.isFinite(l.gradNorm[0]))).toBe(true);
}

describe('transformers from source', () => {
  it('a GPT-style LM: attention edges, the Parameter positional table, pre-LN residuals; silent lint, a prediction, a healthy probe', async () => {
    const { model, findings } = await modelOf('torch_gpt.py', 'GPT');
    expect(findings).toEqual([]);
    const pos = byName(model, 'pos_emb');
    expect(pos).toMatchObject({ kind: 'position-embedding', positions: 64, units: 128, className: 'nn.Parameter' });
    expect(pos.kernelInit).toMatchObject({ name: 'zeros', explicit: true });
    expect(inputsOf(model, 'pos_emb')).toEqual(['tok_emb']);
    const attn = byName(model, 'blocks.0.attn');
    expect(attn).toMatchObject({ kind: 'attention', units: 128, attention: { heads: 4, keyDim: 32, batchFirst: true, dropout: 0.1 } });
    expect(attn.kernelInit).toMatchObject({ name: 'xavier_uniform', explicit: false });
    // a, _ = self.attn(h, h, h): one self-attention input; x = x + a keeps the block input.
    expect(inputsOf(model, 'blocks.0.attn')).toEqual(['blocks.0.ln1']);
    expect(model.layers.filter((l) => l.kind === 'attention')).toHaveLength(4);
    const prediction = predictPropagation(model);
    expect(prediction.ok).toBe(true);
    if (prediction.ok) expect(prediction.grade).not.toBe('vanishing');
    await probeHealthy(model);
  });

  it('a pre-LN nn.TransformerEncoder classifier expands into torch\'s layers, wired as norm_first', async () => {
    const { model, findings } = await modelOf('torch_transformer_classifier.py', 'TransformerClassifier');
    expect(findings).toEqual([]);
    expect(byName(model, 'pos_embedding')).toMatchObject({ kind: 'position-embedding', positions: 256, className: 'nn.Embedding' });
    const names = model.layers.filter((l) => l.name.startsWith('encoder.layers.0.')).map((l) => l.name.slice('encoder.layers.0.'.length));
    expect(names).toEqual(['norm1', 'self_attn', 'dropout1', 'norm2', 'linear1', 'activation', 'dropout', 'linear2', 'dropout2']);
    expect(inputsOf(model, 'encoder.layers.0.norm1')).toEqual(['pos_embedding']);
    expect(byName(model, 'encoder.layers.0.linear1')).toMatchObject({ units: 256, inFeatures: 128, kernelInit: { name: 'kaiming_uniform' } });
    expect(byName(model, 'encoder.layers.1.activation').activation?.name).toBe('relu');
    expect(byName(model, 'global_pool').kind).toBe('global-pool');
    expect(predictPropagation(model).ok).toBe(true);
    await probeHealthy(model);
  });

  it('a post-LN encoder-decoder: GELU given as F.gelu and "gelu", a final encoder norm, cross-attention over the memory, a causal target mask', async () => {
    const { model, findings } = await modelOf('torch_transformer_decoder.py', 'Seq2Seq');
    expect(findings).toEqual([]);
    expect(inputsOf(model, 'encoder.layers.0.norm1')).toEqual(['add']);
    expect(inputsOf(model, 'decoder.layers.1.multihead_attn')).toEqual(['decoder.layers.1.norm1', 'encoder.norm']);
    expect(byName(model, 'decoder.layers.0.self_attn')).toMatchObject({ attention: { causal: true } });
    expect(byName(model, 'encoder.layers.0.self_attn')).toMatchObject({ attention: { causal: false } });
    expect(['encoder.layers.0.activation', 'decoder.layers.1.activation'].map((n) => byName(model, n).activation?.name)).toEqual(['gelu', 'gelu']);
    expect(model.layers.filter((l) => l.kind === 'layernorm')).toHaveLength(2 * 2 + 1 + 2 * 3);
    expect(predictPropagation(model).ok).toBe(true);
    await probeHealthy(model);
  });

  it('a 10-block residual loop (x = x + torch.tanh(b(x))) gives PyTorch\'s first/last-hidden gradient ratio', async () => {
    const reference = JSON.parse(readFileSync(join(fixtures, 'reference/attention.json'), 'utf8')) as { cases: { model: string; source: string; layers: { log10Ratio: number }[] }[] };
    const c = defined(reference.cases.find((x) => x.model === 'ResMLP'));
    const torchRatio = c.layers[0]!.log10Ratio - c.layers[c.layers.length - 2]!.log10Ratio; // +0.21 decades in PyTorch 1.13
    const model = defined((await analyzeText(c.source, '/virtual/resmlp.py')).models.find((m) => m.name === 'ResMLP'));
    // Every block's Add reads the running sum and the block's tanh: the first one included.
    const adds = model.layers.filter((l) => l.kind === 'add');
    expect(adds).toHaveLength(10);
    expect(inputsOf(model, adds[0]!.name)).toEqual(['inp', 'activation']);
    let sum = 0;
    const seeds = 4;
    for (let seed = 0; seed < seeds; seed++) {
      const outcome = await runProbe(model, probeOptions({ backend: 'wasm', steps: 1, seed, batchSize: 32 }));
      if (!outcome.ok) throw new Error(outcome.error.message);
      const weighted = outcome.result.layers.filter((l) => l.gradNorm.length > 0);
      sum += Math.log10(weighted[0]!.gradNorm[0]! / weighted[weighted.length - 2]!.gradNorm[0]!);
    }
    expect(Math.abs(sum / seeds - torchRatio)).toBeLessThan(0.1);
  });
});
