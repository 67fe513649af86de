/**
 * The wasm backend's own kernels of the probe (src/probe/wasm-kernels.ts): a Dense layer as one kernel
 * each way gives the numbers tfjs' ops give, bit for bit for the ops it replaces and within float32
 * rounding of tfjs' autodiff; the one-kernel SGD update equals tf.sub; the saturation counts equal tfjs'
 * ops on the stacked outputs; a probe run leaves no tensor behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/probe/backend';
import { makeMatMul, type FusableActivation } from '../../src/probe/matmul';
import { Rng } from '../../src/probe/rng';
import { runProbe } from '../../src/probe/run';
import { flippedSwapped, memberReductions, subtractEach, tailCounts, transposeInto, type MemberReduction } from '../../src/probe/wasm-kernels';
import { StepMeter } from '../../src/probe/metrics';
import { buildNodes } from '../../src/probe/layers';
import { planWithinBudget } from '../../src/probe/scale';
import { probeOptions } from '../../src/shared/probe';
import { keras, torch } from './ir-builder';
import { defined } from '../defined';

function random(shape: [number, number], seed: number, scale = 1): tf.Tensor2D {
  const values = new Rng(seed).normalInto(new Float32Array(shape[0] * shape[1]));
  return tf.tensor2d(values.map((v) => v * scale), shape);
}

const activations: FusableActivation[] = ['linear', 'relu', 'sigmoid'];

/** act(z) and dL/dz from dL/dy as the probe wrote them with tfjs ops before the fused kernels. */
function reference(activation: FusableActivation, z: tf.Tensor): tf.Tensor {
  return activation === 'relu' ? tf.relu(z) : activation === 'sigmoid' ? tf.sigmoid(z) : z;
}

function throughActivation(dy: tf.Tensor, y: tf.Tensor, activation: FusableActivation): tf.Tensor {
  if (activation === 'relu') return tf.mul(dy, tf.step(y));
  if (activation === 'sigmoid') return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
  return dy;
}

/** A meter's numbers of one step (the weights before the update are the current ones). */
function stepNumbers(meter: StepMeter, loss: tf.Tensor, outputs: tf.Tensor[], grads: tf.Tensor[]): ReturnType<StepMeter['unpack']> {
  const before = meter.snapshot();
  const packed = meter.pack(loss, outputs, grads, before);
  const result = meter.unpack(packed.dataSync());
  tf.dispose([packed, ...before]);
  return result;
}

describe('Dense as one kernel each way on wasm', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  describe.each(activations)('%s', (activation) => {
    it.each([true, false])('with bias %s: the output and gradients of the ops it replaces, bit for bit', (withBias) => {
      const x = random([24, 16], 1);
      const w = random([16, 12], 2, 0.5);
      const bias = withBias ? tf.tensor1d(new Rng(3).normalInto(new Float32Array(12))) : undefined;
      const probe = random([24, 12], 4);
      const matMul = makeMatMul();
      const fused = tf.tidy(() => {
        const f = (...args: tf.Tensor[]) => tf.sum(tf.mul(matMul(args[0] as tf.Tensor2D, args[1] as tf.Tensor2D, args[2], activation), probe));
        const inputs = bias ? [x, w, bias] : [x, w];
        return [matMul(x, w, bias, activation), ...tf.grads(f)(inputs)].map((t) => Array.from(t.dataSync()));
      });
      const expected = tf.tidy(() => {
        // Outside a gradient scope tfjs fuses every activation: the unfused ops, as under tf.grads.
        const linear = activation === 'linear' ? tf.fused.matMul({ a: x, b: w, bias }) : tf.matMul(x, w);
        const y = activation === 'linear' ? linear : reference(activation, bias ? tf.add(linear, bias) : linear);
        const dz = throughActivation(probe, y, activation);
        const grads = [tf.matMul(dz, tf.transpose(w)), tf.matMul(tf.transpose(x), dz), ...(bias ? [tf.sum(dz, 0)] : [])];
        return [y, ...grads].map((t) => Array.from(t.dataSync()));
      });
      expect(fused).toEqual(expected);
      expect(expected[2]!.some((v) => v !== 0)).toBe(true);
      tf.dispose([x, w, probe, ...(bias ? [bias] : [])]);
    });

    it("the gradients of tfjs' own autodiff, within float32 rounding", () => {
      const x = random([32, 20], 5);
      const w = random([20, 8], 6, 0.4);
      const bias = tf.tensor1d(new Rng(7).normalInto(new Float32Array(8)));
      const probe = random([32, 8], 8);
      const matMul = makeMatMul();
      const grads = (layer: (a: tf.Tensor2D, b: tf.Tensor2D, c: tf.Tensor) => tf.Tensor) =>
        tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(layer(a as tf.Tensor2D, b as tf.Tensor2D, c), probe)))([x, w, bias]).map((t) => Array.from(t.dataSync())));
      const fused = grads((a, b, c) => matMul(a, b, c, activation));
      const autodiff = grads((a, b, c) => reference(activation, tf.add(tf.matMul(a, b), c)));
      fused.forEach((values, k) => {
        const scale = Math.max(...autodiff[k]!.map(Math.abs));
        expect(scale).toBeGreaterThan(0);
        values.forEach((v, i) => {
          expect(Math.abs(v - autodiff[k]![i]!) / scale).toBeLessThan(1e-5);
        });
      });
      tf.dispose([x, w, bias, probe]);
    });
  });

  it.each(activations)("%s without the model input's gradient: the same kernel and bias gradients, zeros for the input", (activation) => {
    const x = random([24, 16], 13);
    const w = random([16, 12], 14, 0.5);
    const bias = tf.tensor1d(new Rng(15).normalInto(new Float32Array(12)));
    const probe = random([24, 12], 16);
    const grads = (inputGradient: boolean) =>
      tf.tidy(() => {
        const matMul = makeMatMul();
        const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(matMul(a as tf.Tensor2D, b as tf.Tensor2D, c, activation, false, inputGradient), probe));
        return tf.grads(f)([x, w, bias]).map((t) => Array.from(t.dataSync()));
      });
    const [dx, ...weightGrads] = grads(false);
    const [fullDx, ...fullWeightGrads] = grads(true);
    expect(weightGrads).toEqual(fullWeightGrads);
    expect(defined(dx).every((v) => v === 0)).toBe(true);
    expect(defined(fullDx).some((v) => v !== 0)).toBe(true);
    tf.dispose([x, w, bias, probe]);
  });

  it("a Dense applied to the model's input and again to its own output gets its gradient through both, as tfjs' autodiff on cpu", async () => {
    const model = torch()
      .input([16])
      .layer({ kind: 'dense', name: 'shared', units: 16, inFeatures: 16, activation: 'sigmoid' })
      .layer({ kind: 'dense', name: 'again', units: 16, inFeatures: 16, activation: 'sigmoid', sharesWeightsWith: 'shared' })
      .layer({ kind: 'dense', name: 'out', units: 4, inFeatures: 16 })
      .build();
    const gradNorms = async (backend: 'wasm' | 'cpu') => {
      const outcome = await runProbe(model, probeOptions({ backend, steps: 2, batchSize: 8, seed: 3 }));
      if (!outcome.ok) throw new Error(outcome.error.message);
      return defined(outcome.result.layers.find((l) => l.name === 'shared')).gradNorm;
    };
    const wasm = await gradNorms('wasm');
    const cpu = await gradNorms('cpu');
    await selectBackend('wasm');
    expect(wasm).toHaveLength(2);
    wasm.forEach((g, i) => {
      expect(Math.abs(g - cpu[i]!) / cpu[i]!).toBeLessThan(1e-4);
    });
  });

  it.each([
    [3, 3, 5, 7],
    [1, 2, 3, 4],
    [5, 3, 1, 2],
  ])('a %ix%i kernel from %i to %i channels, flipped and swapped in one kernel, is tf.reverse(tf.transpose(w)) bit for bit', (kh, kw, channelsIn, channelsOut) => {
    const w = tf.tensor4d(new Rng(kh * 100 + channelsIn).normalInto(new Float32Array(kh * kw * channelsIn * channelsOut)), [kh, kw, channelsIn, channelsOut]);
    const flipped = flippedSwapped(w);
    const expected = tf.reverse(tf.transpose(w, [0, 1, 3, 2]), [0, 1]);
    expect(flipped.shape).toEqual([kh, kw, channelsOut, channelsIn]);
    expect(Array.from(flipped.dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([w, flipped, expected]);
  });

  it('the SGD update of many weights in one kernel equals tf.sub, bit for bit', () => {
    // Small weights are subtracted in a loop over the heap, a 128x160 kernel by the backend's Sub; non-finite values as well.
    const weights = [random([16, 12], 9), tf.tensor1d([0.1, -2, 3e-8, NaN, Infinity, 1e38]), random([3, 5], 10), random([128, 160], 13)];
    const grads = [random([16, 12], 11, 1e-3), tf.tensor1d([1e-9, 0.5, -3e-8, 1, Infinity, -1e38]), random([3, 5], 12), random([128, 160], 14, 1e-3)];
    const updated = subtractEach(weights, grads);
    updated.forEach((t, i) => {
      expect(Array.from(t.dataSync())).toEqual(Array.from(tf.sub(weights[i]!, grads[i]!).dataSync()));
    });
    tf.dispose([...weights, ...grads, ...updated]);
  });

  it.each(['sigmoid', 'tanh'] as const)('the %s tail counts of each member equal the ops on the stack, NaN included', (measure) => {
    const members = [0, 1, 2].map((seed) => tf.tidy(() => (measure === 'sigmoid' ? tf.sigmoid(random([8, 6], seed, 6)) : tf.tanh(random([8, 6], seed, 4)))));
    const edge = tf.tensor2d([[NaN, 0.98, 0.02, 1, 0, 0.979999], [-1, 0.5, 0.99, -0.99, 0.97, 0.96]], [2, 6]);
    const withEdge = [...members.map((m) => tf.slice(m, [0, 0], [2, 6])), edge];
    for (const group of [members, withEdge]) {
      const stack = () => tf.stack(group);
      const counts = tailCounts(group, measure, 0.96, stack);
      const x = stack();
      const tails = measure === 'sigmoid' ? tf.abs(tf.sub(tf.mul(x, 2), 1)) : tf.abs(x);
      const expected = tf.sum(tf.cast(tf.greater(tails, 0.96), 'float32'), [1, 2]);
      expect(Array.from(counts.dataSync())).toEqual(Array.from(expected.dataSync()));
      expect(counts.dataSync().some((c) => c > 0)).toBe(true);
      tf.dispose([counts, x, tails, expected]);
    }
    tf.dispose([...members, ...withEdge]);
  });

  it.each(['sigmoid', 'tanh'] as const)('a %s value counts in the tails exactly when the ops count it, at the float32 neighbours of the thresholds', (measure) => {
    // Each value's float32 neighbours, three each way, around where |2y - 1| or |y| crosses 0.96.
    const neighbours = (center: number) => {
      const bits = new Int32Array(new Float32Array([center]).buffer)[0]!;
      return [-3, -2, -1, 0, 1, 2, 3].map((step) => new Float32Array(new Int32Array([bits + step]).buffer)[0]!);
    };
    const centers = measure === 'sigmoid' ? [0.98, 0.02, 0.5, 1, 0] : [0.96, -0.96, 0.5, -1, 1];
    const values = [...centers.flatMap(neighbours), Infinity, -Infinity, NaN, 0, -0, 1e-45, -1e-45, 3e38, -3e38];
    const members = values.map((v) => tf.tensor1d([v]));
    const counts = memberReductions(members, members.map(() => `${measure}-tails` as const), members.map(() => [1]), 0.96);
    const x = tf.tensor1d(values);
    const tails = measure === 'sigmoid' ? tf.abs(tf.sub(tf.mul(x, 2), 1)) : tf.abs(x);
    const expected = tf.cast(tf.greater(tails, 0.96), 'float32');
    const counted = Array.from(counts.dataSync());
    expect(counted).toEqual(Array.from(expected.dataSync()));
    // Both sides of a threshold are among the values.
    expect(counted.slice(0, 7)).toContain(0);
    expect(counted.slice(0, 7)).toContain(1);
    tf.dispose([...members, counts, x, tails, expected]);
  });

  it("the members' first values, sums, sums of squares (plain and about the first value) and tail counts in one kernel equal tfjs' ops, bit for bit", () => {
    const members = [random([7, 9], 17, 30), tf.scalar(2.5), tf.tensor1d([NaN, 0.99, -1e30, 3e-20]), tf.tidy(() => tf.sigmoid(random([33, 65], 18, 5))), tf.tidy(() => tf.tanh(random([4, 100], 19, 3))), tf.tensor2d([[3e7, 1, 1, 1], [1, 1, 1, 1]])];
    const kinds: MemberReduction[] = ['sum', 'squares', 'first', 'sum', 'squares', 'sum', 'squares-about-first', 'sum', 'sum', 'sigmoid-tails', 'tanh-tails'];
    const order = [0, 0, 0, 1, 2, 3, 3, 5, 5, 3, 4];
    // Sums over the member's values in order, or blocked: its rows' sums, then their sum.
    const sumShapes = order.map((i, k) => (k === 8 ? members[i]!.shape : [members[i]!.size]));
    const fused = memberReductions(
      order.map((i) => members[i]!),
      kinds,
      sumShapes,
      0.96,
    );
    const expected = tf.tidy(() =>
      tf.stack(
        order.map((i, k) => {
          const m = members[i]!;
          const first = tf.slice(tf.reshape(m, [-1]), [0], [1]);
                    if (kinds[k] === 'first') return tf.reshape(first, []);
          if (kinds[k] === 'sum') return k === 8 ? tf.sum(tf.sum(m, 1)) : tf.sum(m);
          if (kinds[k] === 'squares') return tf.sum(tf.square(m));
          if (kinds[k] === 'squares-about-first') return tf.sum(tf.squaredDifference(m, first));
          const tails = kinds[k] === 'sigmoid-tails' ? tf.abs(tf.sub(tf.mul(m, 2), 1)) : tf.abs(m);
          return tf.sum(tf.cast(tf.greater(tails, 0.96), 'float32'));
        }),
      ),
    );
    const values = Array.from(fused.dataSync());
    expect(values).toEqual(Array.from(expected.dataSync()));
    expect(values[9]).toBeGreaterThan(0);
    // Blocking changes the float32 sum here (3e7 + 7 in order, 3e7 + 4 by rows): the test tells the orders apart.
    expect(values[7]).not.toBe(values[8]);
    tf.dispose([...members, fused, expected]);
  });

  it("a step's meter numbers from one kernel equal the stacked ops', bit for bit (sigmoid, tanh and relu layers)", () => {
    // 640 and 4099 units at batch 8: outputs summed in blocks (5120 values) and axis by axis (8 x 4099, prime).
    const model = keras().input([12]).denseStack(3, 16, 'sigmoid').denseStack(2, 16, 'tanh').denseStack(2, 16, 'relu').dense(640, 'sigmoid').dense(4099, 'relu').dense(4, 'softmax').build();
    const { plan, batchSize } = planWithinBudget(model, probeOptions({ backend: 'wasm', steps: 1, batchSize: 8, seed: 1 }));
    const nodes = buildNodes(plan.layers, 'keras', new Rng(1), []).filter((n) => n.planned.ir.kind !== 'input');
    const seeds = new Rng(2);
    const like = (shape: number[]) => tf.tensor(seeds.normalInto(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);
    const outputs = nodes.map((n) => tf.tidy(() => {
      const z = like([batchSize, ...n.planned.outShape]);
      return n.measure === 'relu' ? tf.relu(z) : tf.sigmoid(tf.mul(z, 4));
    }));
    const vars = nodes.flatMap((n) => n.vars);
    const grads = vars.map((v) => like(v.shape));
    const loss = tf.scalar(2.302585);
    // The ops in order (not pooled): the fused kernel's sums.
    const numbers = (fused: boolean) => stepNumbers(new StepMeter(nodes, batchSize, 0.01, true, fused, false), loss, outputs, grads);
    const fused = numbers(true);
    expect(fused).toEqual(numbers(false));
    expect(fused.values.saturated.some((v) => v !== null && v > 0)).toBe(true);
    tf.dispose([...outputs, ...grads, loss, ...vars]);
  });

  it("a step's meter numbers with large members pooled equal those summed in order, to float32 rounding; a NaN is summed in order", () => {
    // Outputs of 8 x 32 x 32 x 32 = 262,144 values (pooled) and half as many (not); a 16384 x 300 kernel (4.9 M weights, pooled).
    const model = keras().input([32, 32, 3]).layer({ kind: 'conv2d', units: 32, kernelSize: [3, 3], activation: 'relu', detail: { conv: { padding: 'same' } } }).layer({ kind: 'conv2d', units: 16, kernelSize: [3, 3], activation: 'tanh', detail: { conv: { padding: 'same' } } }).layer({ kind: 'flatten' }).dense(300, 'sigmoid').dense(4, 'softmax').build();
    const { plan, batchSize } = planWithinBudget(model, probeOptions({ backend: 'wasm', steps: 1, batchSize: 8, seed: 1 }));
    const nodes = buildNodes(plan.layers, 'keras', new Rng(1), []).filter((n) => n.planned.ir.kind !== 'input');
    const seeds = new Rng(3);
    const like = (shape: number[]) => tf.tensor(seeds.normalInto(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);
    const outputs = nodes.map((n) => like([batchSize, ...n.planned.outShape]));
    const vars = nodes.flatMap((n) => n.vars);
    const grads = vars.map((v) => like(v.shape));
    const loss = tf.scalar(1.386294);
    const numbers = (pooled: boolean, at: tf.Tensor[] = outputs) => stepNumbers(new StepMeter(nodes, batchSize, 0.01, true, false, pooled), loss, at, grads);
    const [pooled, inOrder] = [numbers(true), numbers(false)];
    let compared = 0;
    for (const key of Object.keys(inOrder.values) as (keyof typeof inOrder.values)[]) {
      inOrder.values[key].forEach((expected, i) => {
        const got = pooled.values[key][i];
        if (expected === null || got === null || got === undefined) {
          expect(got).toBe(expected);
          return;
        }
        compared++;
        expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-4 * Math.max(Math.abs(expected), 1e-6));
      });
    }
    expect(compared).toBeGreaterThan(10);
    // The pooled sums are another order's: some numbers differ in their last bits.
    expect(pooled).not.toEqual(inOrder);
    // A NaN in the first convolution's output (XNNPACK's pooling would turn it into -Infinity).
    const withNan = outputs.map((o, i) => (i === 0 ? tf.where(tf.equal(tf.reshape(tf.range(0, o.size), o.shape), 77), tf.fill(o.shape, NaN), o) : o));
    const nanPooled = numbers(true, withNan);
    const nanInOrder = numbers(false, withNan);
    expect(Object.fromEntries(Object.entries(nanPooled.values).map(([k, v]) => [k, v[0]]))).toEqual(Object.fromEntries(Object.entries(nanInOrder.values).map(([k, v]) => [k, v[0]])));
    expect(Object.values(nanPooled.values).some((v) => Number.isNaN(v[0]))).toBe(true);
    tf.dispose([...outputs, ...grads, loss, ...vars, withNan[0]!]);
  });

  it('a transpose moves every value of any shape to its place (rows past a tile, columns past a multiple of four)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 150 }), fc.integer({ min: 1, max: 11 }), (rows, columns) => {
        const m = Float32Array.from({ length: rows * columns }, (_, i) => i);
        const out = new Float32Array(m.length).fill(-1);
        transposeInto(out, m, rows, columns);
        for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) expect(out[c * rows + r]).toBe(m[r * columns + c]);
      }),
    );
  });

  it('a probe run leaves no tensor behind', async () => {
    const model = keras().input([16]).denseStack(3, 16, 'sigmoid').dense(4, 'softmax').build();
    await runProbe(model, probeOptions({ backend: 'wasm', steps: 1, batchSize: 8, seed: 1 }));
    const before = tf.memory().numTensors;
    const outcome = await runProbe(model, probeOptions({ backend: 'wasm', steps: 4, batchSize: 8, seed: 1 }));
    expect(outcome.ok).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
