/**
 * The optimizer the model would train with (from the IR, with each framework's defaults for what the
 * code leaves out) and its gradient clipping: Keras clipnorm (per variable), clipvalue, global_clipnorm,
 * torch clip_grad_norm_ / clip_grad_value_.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelIR } from '../shared/ir';
import type { ProbeNotice } from '../shared/probe';
import { subtractEach } from './wasm-kernels';

export interface ProbeOptimizer {
  /** e.g. "adam(lr=0.001, clipnorm=1)". */
  description: string;
  /**
   * The loss is multiplied by this before differentiation. Plain SGD and momentum fold their learning
   * rate in here (lr * grad(L) = grad(lr * L)), which saves one op per weight per step.
   */
  gradientScale: number;
  /** The step subtracts exactly the (scaled) gradient: the weight change is the gradient itself. */
  exactUpdate: boolean;
  /** Clip and apply one step of gradients (aligned with `vars`). Disposes nothing it did not create. */
  step(vars: tf.Variable[], grads: tf.Tensor[]): void;
  dispose(): void;
}

interface Clipping {
  norm: number | null;
  value: number | null;
  globalNorm: number | null;
}

function clip(grads: tf.Tensor[], { value, norm: maxNorm, globalNorm }: Clipping): tf.Tensor[] {
  let out = grads;
  if (value !== null) out = out.map((g) => tf.clipByValue(g, -value, value));
  if (maxNorm !== null) {
    out = out.map((g) => {
      const norm = tf.sqrt(tf.sum(tf.square(g)));
      return tf.mul(g, tf.div(maxNorm, tf.maximum(norm, maxNorm)));
    });
  }
  if (globalNorm !== null) {
    const global = tf.sqrt(tf.addN(out.map((g) => tf.sum(tf.square(g)))));
    const scale = tf.div(globalNorm, tf.maximum(global, globalNorm));
    out = out.map((g) => tf.mul(g, scale));
  }
  return out;
}

/**
 * Adam as each framework writes it, in few ops per weight: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g²,
 * w -= a m / (sqrt(v) + e) with a = lr sqrt(1 - b2^t) / (1 - b1^t). PyTorch adds its epsilon to the
 * bias-corrected sqrt(v / (1 - b2^t)), i.e. e = eps sqrt(1 - b2^t); Keras adds it to sqrt(v), e = eps
 * (at step 1 Keras' epsilon weighs 1/sqrt(0.001) = 32 times more, which shows on vanishing gradients).
 * The moments are created at the first step from the gradient (no zero slots, no ops on zeros).
 */
class Adam {
  private readonly moments = new Map<string, [tf.Tensor, tf.Tensor]>();
  private t = 0;

  constructor(
    private readonly lr: number,
    private readonly beta1: number,
    private readonly beta2: number,
    private readonly epsilon: number,
    private readonly epsilonOnCorrected: boolean,
  ) {}

  step(vars: tf.Variable[], grads: tf.Tensor[]): void {
    this.t++;
    const { beta1, beta2 } = this;
    const corrected2 = Math.sqrt(1 - beta2 ** this.t);
    const rate = (this.lr * corrected2) / (1 - beta1 ** this.t);
    const epsilon = this.epsilonOnCorrected ? this.epsilon * corrected2 : this.epsilon;
    vars.forEach((variable, i) => {
      const g = grads[i]!;
      const previous = this.moments.get(variable.name);
      // One variable at a time, so that a big model's temporaries never pile up.
      const [m, v, w] = tf.tidy(() => {
        const square = tf.square(g);
        const m = previous ? tf.add(tf.mul(previous[0], beta1), tf.mul(g, 1 - beta1)) : tf.mul(g, 1 - beta1);
        const v = previous ? tf.add(tf.mul(previous[1], beta2), tf.mul(square, 1 - beta2)) : tf.mul(square, 1 - beta2);
        const w = tf.sub(variable, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsilon)), rate));
        return [m, v, w];
      });
      if (previous) tf.dispose(previous);
      // Kept beyond a tidy the caller may run this step in.
      this.moments.set(variable.name, [tf.keep(m), tf.keep(v)]);
      variable.assign(w);
      w.dispose();
    });
  }

  dispose(): void {
    for (const pair of this.moments.values()) tf.dispose(pair);
    this.moments.clear();
  }
}

export function buildOptimizer(model: ModelIR, notices: ProbeNotice[]): ProbeOptimizer {
  const ir = model.training.optimizer;
  const keras = model.framework === 'keras';
  let name = ir?.name ?? 'unknown';
  if (!ir || name === 'unknown' || name === 'lbfgs') {
    // Keras compile() without an optimizer uses rmsprop; otherwise the probe's documented default is SGD(0.01).
    name = keras && model.training.compile && !ir ? 'rmsprop' : 'sgd';
    notices.push({ severity: 'information', message: `Optimizer ${ir ? `${ir.spelling} is not modelled` : 'not found in the code'}; the probe uses ${name} with its default learning rate.`, line: null });
  }
  const lr = (fallbackKeras: number, fallbackTorch: number) => ir?.learningRate ?? (keras ? fallbackKeras : fallbackTorch);
  const momentum = ir?.momentum ?? 0;
  const epsilon = keras ? 1e-7 : 1e-8;
  let optimizer: tf.Optimizer | Adam;
  let rate: number;
  switch (name) {
    case 'adam':
    case 'adamw':
    case 'nadam':
      rate = lr(0.001, 0.001);
      optimizer = new Adam(rate, 0.9, 0.999, epsilon, !keras);
      if (name !== 'adam') notices.push({ severity: 'information', message: `${name} is probed as Adam (its weight decay / Nesterov term is left out).`, line: null });
      break;
    case 'adamax':
      rate = lr(0.001, 0.002);
      optimizer = tf.train.adamax(rate, 0.9, 0.999, epsilon);
      break;
    case 'rmsprop':
      rate = lr(0.001, 0.01);
      optimizer = tf.train.rmsprop(rate, keras ? 0.9 : 0.99, momentum, epsilon);
      break;
    case 'adagrad':
      rate = lr(0.001, 0.01);
      optimizer = tf.train.adagrad(rate, keras ? 0.1 : 1e-10);
      break;
    case 'adadelta':
      rate = lr(0.001, 1.0);
      optimizer = tf.train.adadelta(rate, keras ? 0.95 : 0.9, keras ? 1e-7 : 1e-6);
      break;
    default:
      rate = lr(0.01, 0.01);
      optimizer = momentum > 0 ? tf.train.momentum(rate, momentum) : tf.train.sgd(rate);
      name = 'sgd';
  }
  const loopClip = model.training.loops.find((l) => l.clip)?.clip ?? null;
  const clipping: Clipping = { norm: ir?.clipnorm ?? null, value: ir?.clipvalue ?? null, globalNorm: ir?.globalClipnorm ?? null };
  if (loopClip && clipping.norm === null && clipping.value === null && clipping.globalNorm === null) {
    // torch's clip_grad_norm_ clips the norm of all gradients together, as tfjs's global norm does.
    const threshold = loopClip.threshold ?? 1;
    if (loopClip.kind === 'norm') clipping.globalNorm = threshold;
    else clipping.value = threshold;
    // The threshold is unknown (a project helper, `args.clip`): probe with 1.0 and say so.
    if (loopClip.threshold === null) notices.push({ severity: 'information', message: `The training loop clips gradients (${loopClip.kind}, line ${loopClip.range.start.line + 1}); threshold unknown, 1.0 used.`, line: loopClip.range.start.line + 1 });
  }
  const parts = [`lr=${rate}`];
  if (name === 'sgd' && momentum > 0) parts.push(`momentum=${momentum}`);
  if (clipping.norm !== null) parts.push(`clipnorm=${clipping.norm}`);
  if (clipping.value !== null) parts.push(`clipvalue=${clipping.value}`);
  if (clipping.globalNorm !== null) parts.push(`global_clipnorm=${clipping.globalNorm}`);
  const clips = clipping.norm !== null || clipping.value !== null || clipping.globalNorm !== null;
  const description = `${name}(${parts.join(', ')})`;
  const update = optimizer;
  const apply = (vars: tf.Variable[], grads: tf.Tensor[]) => {
    if (update instanceof Adam) update.step(vars, grads);
    else update.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
  };
  if (name === 'sgd' && !clips) {
    optimizer.dispose();
    if (momentum > 0) {
      // torch and tfjs momentum: v = m v + g, w -= lr v; with g scaled by lr: v' = m v' + g', w -= v'.
      const scaled = tf.train.momentum(1, momentum);
      return {
        description,
        gradientScale: rate,
        exactUpdate: false,
        step: (vars, grads) => { tf.tidy(() => { scaled.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i]! }))); }); },
        dispose: () => { scaled.dispose(); },
      };
    }
    return {
      description,
      gradientScale: rate,
      exactUpdate: true,
      step: (vars, grads) => {
        const updated = subtractEach(vars, grads);
        vars.forEach((v, i) => { v.assign(updated[i]!); });
        // The variables hold the new values now; the step's own tensors go (they were kept before: a leak).
        tf.dispose(updated);
      },
      dispose: () => {},
    };
  }
  return {
    description,
    gradientScale: 1,
    exactUpdate: false,
    step(vars, grads) {
      tf.tidy(() => { apply(vars, clips ? clip(grads, clipping) : grads); });
    },
    dispose() {
      optimizer.dispose();
    },
  };
}
