/**
 * Synthetic inputs: standardized Gaussian values, raw-scale integers (e.g. 0..255 pixels) to show what
 * unnormalized data does, or integer tokens for an Embedding; a buffer the model makes is one draw for the whole batch. Drawn from the data stream of the seed
 * only, so a what-if run sees exactly the same batches. Noise the model draws itself stays N(0, 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { InputKind, Plan } from './plan';
import type { Rng } from './rng';

/** One batch per model input: the first, then Plan.extraInputs in order. */
export function makeInputs(plan: Plan, batch: number, rng: Rng, rawInputMax: number | null): tf.Tensor[] {
  return [makeInput(plan.inputShape, plan.input, batch, rng, rawInputMax), ...plan.extraInputs.map((extra) => makeInput(extra.shape, extra.input, batch, rng, rawInputMax))];
}

function makeInput(perExample: number[], input: InputKind, batch: number, rng: Rng, rawInputMax: number | null): tf.Tensor {
  const shape = [batch, ...perExample];
  const count = shape.reduce((a, b) => a * b, 1);
  if (input.kind === 'tokens') {
    const vocabulary = input.vocabulary;
    const tokens = new Int32Array(count);
    for (let i = 0; i < count; i++) tokens[i] = rng.int(vocabulary);
    return tf.tensor(tokens, shape, 'int32');
  }
  if (rawInputMax !== null && input.kind === 'float') return tf.tensor(rng.fill(count, () => Math.floor(rng.next() * (rawInputMax + 1))), shape);
  if (input.kind === 'constant') {
    // A buffer the model made (a coordinate grid): one example's values, the same for the whole batch.
    const one = rng.normalInto(new Float32Array(count / batch));
    return tf.tile(tf.tensor(one, [1, ...perExample]), [batch, ...perExample.map(() => 1)]);
  }
  return tf.tensor(rng.normalInto(new Float32Array(count)), shape);
}
