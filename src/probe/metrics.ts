/**
 * Per-step measurements, computed with a handful of vectorized ops for the whole model and read back
 * with a single dataSync: every layer's output is flattened into one vector and reduced per layer by
 * sparseSegmentSum, and likewise all gradients and all weights. (Per-layer tf.norm calls cost more
 * than the training step itself on the wasm backend.)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ProbeNode } from './layers';

/**
 * Output level beyond which a sigmoid/tanh unit counts as saturated: |2y-1| > 0.96 for sigmoid,
 * |y| > 0.96 for tanh. In both cases the derivative is below 7.8% of its peak there.
 */
export const SATURATION_LEVEL = 0.96;

interface Segments {
  indices: tf.Tensor1D;
  ids: tf.Tensor1D;
  count: number;
}

function segments(sizes: number[]): Segments | null {
  if (sizes.length === 0) return null;
  const total = sizes.reduce((a, b) => a + b, 0);
  const ids = new Int32Array(total);
  let offset = 0;
  sizes.forEach((size, segment) => {
    ids.fill(segment, offset, offset + size);
    offset += size;
  });
  return { indices: tf.range(0, total, 1, 'int32') as tf.Tensor1D, ids: tf.tensor1d(ids, 'int32'), count: sizes.length };
}

function segmentSum(data: tf.Tensor, seg: Segments): tf.Tensor1D {
  return tf.sparse.sparseSegmentSum(data as tf.Tensor1D, seg.indices, seg.ids) as tf.Tensor1D;
}

function flatConcat(tensors: tf.Tensor[]): tf.Tensor1D {
  const flat = tensors.map((t) => tf.reshape(t, [-1]));
  return (flat.length === 1 ? flat[0] : tf.concat(flat)) as tf.Tensor1D;
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export interface StepNumbers {
  loss: number;
  /** Per measured node. */
  actMean: number[];
  actStd: number[];
  nonFinite: number[];
  /** Per measured node; null where the node has no such measure. */
  saturated: (number | null)[];
  dead: (number | null)[];
  gradNorm: (number | null)[];
  updateRatio: (number | null)[];
}

export class StepMeter {
  private readonly act: Segments;
  private readonly sat: Segments | null;
  private readonly dead: Segments | null;
  private readonly weights: Segments | null;
  private readonly satNodes: number[];
  private readonly deadNodes: number[];
  private readonly weightNodes: number[];

  /** `nodes` are the measured nodes; `batch` the batch size. */
  constructor(
    private readonly nodes: ProbeNode[],
    private readonly batch: number,
  ) {
    this.satNodes = nodes.flatMap((n, i) => (n.measure === 'sigmoid' || n.measure === 'tanh' ? [i] : []));
    this.deadNodes = nodes.flatMap((n, i) => (n.measure === 'relu' ? [i] : []));
    this.weightNodes = nodes.flatMap((n, i) => (n.vars.length > 0 ? [i] : []));
    const outSize = (i: number) => batch * size(nodes[i].planned.outShape);
    this.act = segments(nodes.map((_, i) => outSize(i)))!;
    this.sat = segments(this.satNodes.map(outSize));
    this.dead = segments(this.deadNodes.map((i) => last(nodes[i].planned.outShape)));
    this.weights = segments(this.weightNodes.map((i) => nodes[i].vars.reduce((s, v) => s + v.size, 0)));
  }

  /** All weights as one vector (taken before the optimizer step, for the update ratio). */
  snapshot(): tf.Tensor1D | null {
    return this.weights ? tf.tidy(() => flatConcat(this.weightNodes.flatMap((i) => this.nodes[i].vars))) : null;
  }

  /** One vector with everything of this step; `grads` are aligned with the weight nodes' vars. */
  pack(loss: tf.Tensor, outputs: tf.Tensor[], grads: tf.Tensor[], before: tf.Tensor1D | null): tf.Tensor1D {
    return tf.tidy(() => {
      const parts: tf.Tensor1D[] = [tf.reshape(tf.cast(loss, 'float32'), [1]) as tf.Tensor1D];
      const all = flatConcat(outputs);
      parts.push(segmentSum(all, this.act), segmentSum(tf.square(all), this.act));
      if (this.sat) {
        const tails = flatConcat(this.satNodes.map((i) => (this.nodes[i].measure === 'sigmoid' ? tf.abs(tf.sub(tf.mul(outputs[i], 2), 1)) : tf.abs(outputs[i]))));
        parts.push(segmentSum(tf.cast(tf.greater(tails, SATURATION_LEVEL), 'float32'), this.sat));
      }
      if (this.dead) {
        const peaks = flatConcat(this.deadNodes.map((i) => tf.max(outputs[i], outputs[i].shape.slice(0, -1).map((_, a) => a))));
        parts.push(segmentSum(tf.cast(tf.lessEqual(peaks, 0), 'float32'), this.dead));
      }
      if (this.weights && before) {
        const after = flatConcat(this.weightNodes.flatMap((i) => this.nodes[i].vars));
        parts.push(segmentSum(tf.square(flatConcat(grads)), this.weights));
        parts.push(segmentSum(tf.square(tf.sub(after, before)), this.weights));
        parts.push(segmentSum(tf.square(before), this.weights));
      }
      return tf.concat(parts) as tf.Tensor1D;
    });
  }

  /** Read back a packed vector. */
  unpack(values: Float32Array | Int32Array | Uint8Array): StepNumbers {
    const n = this.nodes.length;
    let offset = 1;
    const take = (count: number) => {
      const slice = Array.from(values.subarray(offset, offset + count));
      offset += count;
      return slice;
    };
    const sums = take(n);
    const squares = take(n);
    const satCounts = this.sat ? take(this.satNodes.length) : [];
    const deadCounts = this.dead ? take(this.deadNodes.length) : [];
    const gradSq = this.weights ? take(this.weightNodes.length) : [];
    const deltaSq = this.weights ? take(this.weightNodes.length) : [];
    const weightSq = this.weights ? take(this.weightNodes.length) : [];
    const numbers: StepNumbers = {
      loss: values[0],
      actMean: [],
      actStd: [],
      nonFinite: [],
      saturated: new Array(n).fill(null),
      dead: new Array(n).fill(null),
      gradNorm: new Array(n).fill(null),
      updateRatio: new Array(n).fill(null),
    };
    for (let i = 0; i < n; i++) {
      const count = this.batch * size(this.nodes[i].planned.outShape);
      const mean = sums[i] / count;
      numbers.actMean.push(mean);
      numbers.actStd.push(Math.sqrt(Math.max(0, squares[i] / count - mean * mean)));
      numbers.nonFinite.push(Number.isFinite(sums[i]) && Number.isFinite(squares[i]) ? 0 : 1);
    }
    this.satNodes.forEach((node, k) => {
      numbers.saturated[node] = satCounts[k] / (this.batch * size(this.nodes[node].planned.outShape));
    });
    this.deadNodes.forEach((node, k) => {
      numbers.dead[node] = deadCounts[k] / last(this.nodes[node].planned.outShape);
    });
    this.weightNodes.forEach((node, k) => {
      numbers.gradNorm[node] = Math.sqrt(gradSq[k]);
      numbers.updateRatio[node] = Math.sqrt(deltaSq[k]) / Math.max(Math.sqrt(weightSq[k]), 1e-12);
      if (!Number.isFinite(gradSq[k]) || !Number.isFinite(deltaSq[k])) numbers.nonFinite[node] = 1;
    });
    return numbers;
  }

  dispose(): void {
    for (const seg of [this.act, this.sat, this.dead, this.weights]) {
      seg?.indices.dispose();
      seg?.ids.dispose();
    }
  }
}

function last(shape: number[]): number {
  return shape[shape.length - 1];
}
