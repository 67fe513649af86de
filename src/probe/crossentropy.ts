/**
 * A softmax output's gradient and the categorical cross-entropy of probabilities on the wasm backend,
 * as single kernels with tfjs' own numbers. Written op by op, the loss -mean(Σ t·log(clip(p, ε, 1)))
 * is 6 kernels forward and 11 backward (the tape's Neg, RealDiv, Multiply, Cast, GreaterEqual,
 * LessEqual, LogicalAnd, ZerosLike, Select...), the softmax's gradient 4 more: about half the kernels
 * of a 20-layer MLP's step besides its layers, each with the engine's bookkeeping, and a path through
 * the backend's binary kernels that V8 then optimizes in the first run.
 *
 * The clipping and the logarithm are the backend's own kernels, called directly; the products,
 * quotients, differences and sums over the classes are float32 operations here in the order tfjs'
 * gradient functions apply them (a Float32Array store or Math.fround rounds each result once, as
 * float32 arithmetic does; the sums run in order from zero, as the backend's Sum and Mean do).
 * Bit for bit the ops' numbers (test/probe/crossentropy.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { backendKernel, registerWasmKernels } from './wasm-kernels';

const SOFTMAX_BACKWARD = 'GradientLensSoftmaxBackward';
const CROSSENTROPY = 'GradientLensCrossentropy';
const CROSSENTROPY_BACKWARD = 'GradientLensCrossentropyBackward';

type Info = tf.TensorInfo;

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

const fround = Math.fround;

function heap(wasm: BackendWasm, t: Info): Float32Array {
  return wasm.typedArrayFromHeap(t) as Float32Array;
}

/** dx = dy·y - (Σ dy·y)·y over the last axis, as tfjs' gradient of Softmax: a Multiply, a Sum in order, a Multiply, a Sub. */
function softmaxBackwardKernel({ inputs, backend }: KernelArgs): Info {
  const wasm = backend as BackendWasm;
  const { dy, y } = inputs as { dy: Info; y: Info };
  const classes = y.shape[y.shape.length - 1]!;
  const dx = wasm.makeOutput(y.shape, 'float32');
  // Heap views only after the allocation (it may grow the heap and detach older views).
  softmaxGradientInto(heap(wasm, dx), heap(wasm, dy), heap(wasm, y), classes);
  return dx;
}

// The loops are functions of their own, free of calls: V8 optimizes a loop with what its function
// calls inlined, and a kernel's loop inlining the backend's kernels took 150 ms of compiler time.

function softmaxGradientInto(dx: Float32Array, dy: Float32Array, y: Float32Array, classes: number): void {
  for (let row = 0; row < y.length; row += classes) {
    let sum = 0;
    for (let i = row; i < row + classes; i++) {
      // dy·y, kept in dx until its row's sum is known.
      dx[i] = dy[i]! * y[i]!;
      sum = fround(sum + dx[i]!);
    }
    for (let i = row; i < row + classes; i++) dx[i] = dx[i]! - fround(sum * y[i]!);
  }
}

/** Σ over rows (in order) of each row's Σ t·log, in float32. */
function sumOfRowSums(t: Float32Array, logs: Float32Array, classes: number): number {
  let total = 0;
  for (let row = 0; row < t.length; row += classes) {
    let sum = 0;
    for (let i = row; i < row + classes; i++) sum = fround(sum + fround(t[i]! * logs[i]!));
    total = fround(total + sum);
  }
  return total;
}

/** dp = (perValue·t) / clip(p) where ε <= p <= 1, else 0. */
function crossentropyGradientInto(dp: Float32Array, p: Float32Array, t: Float32Array, clip: Float32Array, perValue: number, low: number): void {
  for (let i = 0; i < dp.length; i++) {
    const pi = p[i]!;
    dp[i] = pi >= low && pi <= 1 ? fround(fround(perValue * t[i]!) / clip[i]!) : 0;
  }
}

/** clip(p, ε, 1) by the backend's ClipByValue (XNNPACK's clamp, whose NaN handling the loss keeps). */
function clipped(p: Info, epsilon: number, wasm: BackendWasm): Info {
  return backendKernel('ClipByValue', { x: p }, wasm, { clipValueMin: epsilon, clipValueMax: 1 });
}

/** Rows of a probability tensor: every axis but the classes (the mean runs over them). */
function rowsOf(p: Info): number {
  return p.shape.slice(0, -1).reduce((n, d) => n * d, 1);
}

/** [] = -mean over rows of Σ_classes t·log(clip(p, ε, 1)), times `scale` when it is not 1. */
function crossentropyKernel({ inputs, backend, attrs }: KernelArgs): Info {
  const wasm = backend as BackendWasm;
  const { p, t } = inputs as { p: Info; t: Info };
  const epsilon = attrs?.epsilon as number;
  const scale = attrs?.scale as number;
  const classes = p.shape[p.shape.length - 1]!;
  const rows = rowsOf(p);
  const clip = clipped(p, epsilon, wasm);
  const logs = backendKernel('Log', { x: clip }, wasm);
  const out = wasm.makeOutput([], 'float32');
  const loss = -fround(sumOfRowSums(heap(wasm, t), heap(wasm, logs), classes) / rows);
  heap(wasm, out)[0] = scale === 1 ? loss : fround(loss * fround(scale));
  wasm.disposeData(clip.dataId);
  wasm.disposeData(logs.dataId);
  return out;
}

/**
 * d(loss)/dp from the loss's gradient dy, as the tape computes it: the scale's product, the Neg's, the
 * Mean's (times ones, over the rows), the Sum's (times ones), the product's (times t), the Log's (over
 * clip(p)), and the clip's (zero where p is outside [ε, 1]).
 */
function crossentropyBackwardKernel({ inputs, backend, attrs }: KernelArgs): Info {
  const wasm = backend as BackendWasm;
  const { dy, p, t } = inputs as { dy: Info; p: Info; t: Info };
  const epsilon = attrs?.epsilon as number;
  const scale = attrs?.scale as number;
  const clip = clipped(p, epsilon, wasm);
  const dp = wasm.makeOutput(p.shape, 'float32');
  const dLossValue = heap(wasm, dy)[0]!;
  const dLoss = scale === 1 ? dLossValue : fround(dLossValue * fround(scale));
  crossentropyGradientInto(heap(wasm, dp), heap(wasm, p), heap(wasm, t), heap(wasm, clip), fround(-dLoss / rowsOf(p)), fround(epsilon));
  wasm.disposeData(clip.dataId);
  return dp;
}

const KERNELS: [string, tf.KernelFunc][] = [
  [SOFTMAX_BACKWARD, softmaxBackwardKernel],
  [CROSSENTROPY, crossentropyKernel],
  [CROSSENTROPY_BACKWARD, crossentropyBackwardKernel],
];

function register(): void {
  registerWasmKernels(KERNELS);
}

let softmaxOp: ((x: tf.Tensor) => tf.Tensor) | null = null;

/** Softmax over the last axis; on wasm its gradient is one kernel. */
export function softmax(x: tf.Tensor): tf.Tensor {
  if (tf.getBackend() !== 'wasm' || x.dtype !== 'float32') return tf.softmax(x);
  register();
  softmaxOp ??= tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [logits, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const y = tf.softmax(logits);
    save([y]);
    return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel<tf.Tensor>(SOFTMAX_BACKWARD, { dy, y: saved[0]! }) };
  });
  return softmaxOp(x);
}

/**
 * -mean(Σ target·log(clip(p, ε, 1))) over the last axis, times `scale`, as one kernel each way on
 * wasm for float32 tensors; null elsewhere (the caller takes tfjs' ops). The target gets no gradient.
 */
export function crossentropyKernels(p: tf.Tensor, target: tf.Tensor, epsilon: number, scale: number): tf.Scalar | null {
  if (tf.getBackend() !== 'wasm' || p.dtype !== 'float32' || target.dtype !== 'float32') return null;
  register();
  const attrs = { epsilon, scale };
  const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [probabilities, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([probabilities]);
    return {
      value: tf.engine().runKernel<tf.Scalar>(CROSSENTROPY, { p: probabilities, t: target }, attrs),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel<tf.Tensor>(CROSSENTROPY_BACKWARD, { dy, p: saved[0]!, t: target }, attrs),
    };
  });
  return loss(p);
}
