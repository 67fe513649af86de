/**
 * The probe of torch recurrent layers started from other layers' states: the encoder of a seq2seq
 * trains through the decoder's initial state (PyTorch 1.13 on Seq2Seq, 5 seeds: embedding / decoder
 * gradient norm 5.2e-3 to 5.4e-3 with the head on every step, 1.9e-6 to 2.3e-6 had it read the last
 * step only), level by level for stacked LSTMs. A bidirectional layer's final states and steps, picked
 * and joined as users write it, have the features the Linear after them expects.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../../src/shared/ir';
import { runProbe } from '../../src/probe/run';
import { probeOptions, type ProbeResult } from '../../src/shared/probe';
import { extractFixture, model } from '../unit/extract/torch-fixture';
import { defined } from '../defined';

async function probe(name: string): Promise<ProbeResult> {
  const m: ModelIR = model(await extractFixture('recurrent_states.py'), name);
  const outcome = await runProbe(m, probeOptions({ backend: 'wasm', steps: 2, seed: 1 }));
  if (!outcome.ok) throw new Error(`${outcome.error.kind}: ${outcome.error.message}`);
  return outcome.result;
}

const gradient = (r: ProbeResult, name: string) => defined(defined(r.layers.find((l) => l.name === name)).gradNorm[0]);

describe('probe of torch recurrent states', () => {
  it("trains a seq2seq encoder through the decoder's initial state, as PyTorch does", async () => {
    const result = await probe('Seq2Seq');
    const ratio = gradient(result, 'src_embed') / gradient(result, 'decoder');
    expect(Math.log10(ratio)).toBeGreaterThan(Math.log10(5.3e-3) - 1);
    expect(Math.log10(ratio)).toBeLessThan(Math.log10(5.3e-3) + 1);
    expect(result.verdicts.map((v) => v.kind)).not.toContain('vanishing');
  });

  it('starts each level of a stacked LSTM decoder from the same level of the encoder', async () => {
    const result = await probe('StackedSeq2Seq');
    expect(gradient(result, 'encoder')).toBeGreaterThan(0);
  });

  it('decodes every step of a language model (one prediction per token) and the last step of its classifier twin', async () => {
    const lm = await probe('LanguageModel');
    expect(lm.notices.some((n) => /last time step/.test(n.message))).toBe(false);
    const classifier = await probe('LastStepClassifier');
    expect(classifier.notices.some((n) => /last time step/.test(n.message))).toBe(true);
  });

  it.each(['BidirectionalLastState', 'BidirectionalBothStates', 'BidirectionalBothEnds'])('builds %s: its head gets the features torch gives it', async (name) => {
    const result = await probe(name);
    expect(gradient(result, 'fc')).toBeGreaterThan(0);
    expect(gradient(result, 'embed')).toBeGreaterThan(0);
  });
});
