/**
 * Every activation the knowledge base knows as a scalar function and its derivative, with each
 * framework's constants (the same ones the probe builds in tfjs), and Gaussian expectations of them
 * by Gauss-Hermite quadrature (Gauss-Legendre panels when the Gaussian is much wider than the
 * activation's curved region): what the mean-field recursions of propagation.ts need.
 */
import type { ActivationIR, ActivationName, Framework } from '../ir';
import { negativeSlope, type ActivationLike } from './activations';
import { normalCdf, normalPdf } from './math';

export interface ScalarActivation {
  f(x: number): number;
  /** The derivative frameworks use (0 at a ReLU's kink). */
  df(x: number): number;
}

/** SELU's constants (Klambauer et al. 2017), as both frameworks define them. */
export const SELU_LAMBDA = 1.0507009873554805;
export const SELU_ALPHA = 1.6732632423543772;

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
export const softplus = (x: number): number => (x > 30 ? x : Math.log1p(Math.exp(x)));

function scalar(f: (x: number) => number, df: (x: number) => number): ScalarActivation {
  return { f, df };
}

const LINEAR = scalar((x) => x, () => 1);

/** The gate and cell nonlinearities of recurrent layers (the same in every framework). */
export const SIGMOID = scalar(sigmoid, (x) => {
  const s = sigmoid(x);
  return s * (1 - s);
});
export const TANH = scalar(Math.tanh, (x) => {
  const t = Math.tanh(x);
  return 1 - t * t;
});

function leaky(slope: number): ScalarActivation {
  return scalar((x) => (x > 0 ? x : slope * x), (x) => (x > 0 ? 1 : slope));
}

function elu(alpha: number): ScalarActivation {
  return scalar((x) => (x > 0 ? x : alpha * Math.expm1(x)), (x) => (x > 0 ? 1 : alpha * Math.exp(x)));
}

/**
 * The activation as a scalar function for `framework`; null for the ones that are not elementwise
 * (softmax, log_softmax: see propagation.ts) or not known.
 * Framework constants: leaky ReLU's default slope (Keras 0.3, PyTorch 0.01), PReLU's initial slope
 * (Keras 0, PyTorch 0.25), hard_sigmoid (tf.keras 2: clip(0.2x + 0.5); PyTorch: relu6(x + 3) / 6),
 * exact GELU (the default of both).
 */
export function scalarActivation(activation: ActivationLike, framework: Framework): ScalarActivation | null {
  const act = typeof activation === 'string' ? { name: activation, params: {} as Record<string, number> } : activation;
  // One object per activation and constants, so that what is computed of it can be kept by identity (propagation.ts).
  const key = `${framework}\u0000${act.name}\u0000${JSON.stringify(act.params)}`;
  let made = madeActivations.get(key);
  if (made === undefined) {
    if (madeActivations.size >= MAX_MADE_ACTIVATIONS) madeActivations.clear();
    madeActivations.set(key, (made = makeScalarActivation(act, framework)));
  }
  return made;
}

const madeActivations = new Map<string, ScalarActivation | null>();
/** Distinct activations kept (an editor session may see many slopes typed one after the other). */
const MAX_MADE_ACTIVATIONS = 256;

function makeScalarActivation(act: Pick<ActivationIR, 'name' | 'params'>, framework: Framework): ScalarActivation | null {
  const name: ActivationName = act.name;
  switch (name) {
    case 'linear':
      return LINEAR;
    case 'relu':
      return leaky(0);
    case 'relu6':
      return scalar((x) => Math.min(Math.max(x, 0), 6), (x) => (x > 0 && x < 6 ? 1 : 0));
    case 'leaky_relu':
    case 'prelu':
      return leaky(negativeSlope(act, framework));
    case 'elu':
      return elu(act.params.alpha ?? 1);
    case 'selu': {
      const inner = elu(SELU_ALPHA);
      return scalar((x) => SELU_LAMBDA * inner.f(x), (x) => SELU_LAMBDA * inner.df(x));
    }
    case 'gelu':
      return scalar((x) => x * normalCdf(x), (x) => normalCdf(x) + x * normalPdf(x));
    case 'swish':
      return scalar((x) => x * sigmoid(x), (x) => {
        const s = sigmoid(x);
        return s + x * s * (1 - s);
      });
    case 'mish':
      return scalar((x) => x * Math.tanh(softplus(x)), (x) => {
        const t = Math.tanh(softplus(x));
        return t + x * (1 - t * t) * sigmoid(x);
      });
    case 'softplus':
      return scalar(softplus, sigmoid);
    case 'sigmoid':
      return SIGMOID;
    case 'hard_sigmoid':
      return framework === 'keras'
        ? scalar((x) => Math.min(Math.max(0.2 * x + 0.5, 0), 1), (x) => (x > -2.5 && x < 2.5 ? 0.2 : 0))
        : scalar((x) => Math.min(Math.max(x + 3, 0), 6) / 6, (x) => (x > -3 && x < 3 ? 1 / 6 : 0));
    case 'tanh':
      return TANH;
    case 'softsign':
      return scalar((x) => x / (1 + Math.abs(x)), (x) => 1 / ((1 + Math.abs(x)) * (1 + Math.abs(x))));
    case 'exponential':
      return scalar(Math.exp, Math.exp);
    case 'abs':
      return scalar(Math.abs, Math.sign);
    case 'softmax':
    case 'log_softmax':
    case 'unknown':
      return null;
  }
}

// ---- Gauss-Hermite quadrature ----------------------------------------------------------------------

/** Nodes; even, so that no node sits on the kink of a rectifier at 0 and symmetric integrands are exact. */
const HERMITE_NODES = 64;

interface Rule {
  /** Nodes x_i and weights w_i with E[g(Z)] ≈ Σ w_i g(x_i) for Z ~ N(0, 1). */
  x: Float64Array;
  w: Float64Array;
}

/**
 * Physicists' Gauss-Hermite nodes by Newton's method on the orthonormal recurrence (Golub-Welsch
 * would need an eigensolver), rescaled to the standard normal: x = √2·t, w = ω/√π.
 */
function hermiteRule(n: number): Rule {
  const x = new Float64Array(n);
  const w = new Float64Array(n);
  const pim4 = Math.pow(Math.PI, -0.25);
  const m = Math.floor((n + 1) / 2);
  let z = 0;
  for (let i = 0; i < m; i++) {
    if (i === 0) z = Math.sqrt(2 * n + 1) - 1.85575 * Math.pow(2 * n + 1, -1 / 6);
    else if (i === 1) z -= (1.14 * Math.pow(n, 0.426)) / z;
    else if (i === 2) z = 1.86 * z - 0.86 * x[0]!;
    else if (i === 3) z = 1.91 * z - 0.91 * x[1]!;
    else z = 2 * z - x[i - 2]!;
    let pp = 0;
    for (let iter = 0; iter < 100; iter++) {
      let p1 = pim4;
      let p2 = 0;
      for (let j = 1; j <= n; j++) {
        const p3 = p2;
        p2 = p1;
        p1 = z * Math.sqrt(2 / j) * p2 - Math.sqrt((j - 1) / j) * p3;
      }
      pp = Math.sqrt(2 * n) * p2;
      const z1 = z;
      z = z1 - p1 / pp;
      if (Math.abs(z - z1) <= 1e-14) break;
    }
    x[i] = z;
    x[n - 1 - i] = -z;
    w[i] = 2 / (pp * pp);
    w[n - 1 - i] = w[i]!;
  }
  const scaled: Rule = { x: new Float64Array(n), w: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    scaled.x[i] = Math.SQRT2 * x[i]!;
    scaled.w[i] = w[i]! / Math.sqrt(Math.PI);
  }
  return scaled;
}

let rule: Rule | null = null;

function standardRule(): Rule {
  rule ??= hermiteRule(HERMITE_NODES);
  return rule;
}

/**
 * Every activation bends only within |z| ≲ 12 (beyond, it is linear, constant or exponential); a
 * Gaussian wider than this many units would let the Hermite nodes step over that region, so such
 * expectations use panels instead.
 */
const HERMITE_MAX_SD = 1.5;
const CURVED_HALF_WIDTH = 12;
const INNER_PANEL = 0.5;

/** 8-point Gauss-Legendre on [-1, 1]. */
const LEGENDRE_X = [-0.9602898564975363, -0.7966664774136267, -0.525532409916329, -0.1834346424956498, 0.1834346424956498, 0.525532409916329, 0.7966664774136267, 0.9602898564975363];
const LEGENDRE_W = [0.1012285362903763, 0.2223810344533745, 0.3137066458778873, 0.362683783378362, 0.362683783378362, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763];

/** Nodes and weights for E over N(mean, sd²): Hermite when narrow, Gauss-Legendre panels when wide. */
function nodesFor(mean: number, sd: number): { x: ArrayLike<number>; w: ArrayLike<number> } {
  const standard = standardRule();
  if (sd <= HERMITE_MAX_SD) {
    const x = new Float64Array(standard.x.length);
    for (let i = 0; i < x.length; i++) x[i] = mean + sd * standard.x[i]!;
    return { x, w: standard.w };
  }
  const low = mean - 9 * sd;
  const high = mean + 9 * sd;
  const cuts = new Set<number>([low, high]);
  const innerLow = Math.max(low, -CURVED_HALF_WIDTH);
  const innerHigh = Math.min(high, CURVED_HALF_WIDTH);
  for (let c = innerLow; c < innerHigh; c += INNER_PANEL) cuts.add(c);
  cuts.add(innerHigh);
  for (let k = 1; k < 12; k++) cuts.add(low + ((high - low) * k) / 12);
  const edges = [...cuts].sort((a, b) => a - b);
  const x: number[] = [];
  const w: number[] = [];
  for (let e = 0; e + 1 < edges.length; e++) {
    const a = edges[e]!;
    const b = edges[e + 1]!;
    if (b - a < 1e-12) continue;
    const half = (b - a) / 2;
    for (let i = 0; i < LEGENDRE_X.length; i++) {
      const z = a + half * (LEGENDRE_X[i]! + 1);
      const u = (z - mean) / sd;
      x.push(z);
      w.push((half * LEGENDRE_W[i]! * Math.exp(-0.5 * u * u)) / (sd * Math.sqrt(2 * Math.PI)));
    }
  }
  return { x, w };
}

/** E[g(z)] for z ~ N(mean, variance). */
export function gaussianExpectation(g: (z: number) => number, mean: number, variance: number): number {
  const { x, w } = nodesFor(mean, Math.sqrt(Math.max(variance, 0)));
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += w[i]! * g(x[i]!);
  return sum;
}

/** Per window size k: the Hermite weights times k·Φ(x)^(k−1) at each standard node (see maximumMoments). */
const orderWeights = new Map<number, Float64Array>();
/** Window sizes kept in orderWeights before it is emptied (a model has a few). */
const MAX_ORDER_WEIGHTS = 64;

function orderWeightsOf(k: number): Float64Array {
  let weights = orderWeights.get(k);
  if (!weights) {
    const standard = standardRule();
    weights = new Float64Array(standard.x.length);
    for (let i = 0; i < weights.length; i++) weights[i] = standard.w[i]! * k * normalCdf(standard.x[i]!) ** (k - 1);
    if (orderWeights.size >= MAX_ORDER_WEIGHTS) orderWeights.clear();
    orderWeights.set(k, weights);
  }
  return weights;
}

/**
 * E[f(M)] and E[f(M)²] for M the largest of k independent N(mean, variance) values, whose density is
 * k·Φ((z − mean)/sd)^(k−1)·φ: a max-pooling window. One pass over the nodes; with Hermite nodes, which
 * move with the mean, the order-statistic weights are the same for every mean and made once per k
 * (the prediction asks once per channel mean of every pooling layer: two quadratures each, with Φ at
 * every node, were a third of predicting a CNN).
 */
export function maximumMoments(f: (z: number) => number, k: number, mean: number, variance: number): { mean: number; second: number } {
  const sd = Math.sqrt(Math.max(variance, 0));
  let first = 0;
  let second = 0;
  if (sd <= HERMITE_MAX_SD) {
    const x = standardRule().x;
    const weights = orderWeightsOf(k);
    for (let i = 0; i < x.length; i++) {
      const y = f(mean + sd * x[i]!);
      first += weights[i]! * y;
      second += weights[i]! * y * y;
    }
    return { mean: first, second };
  }
  const { x, w } = nodesFor(mean, sd);
  for (let i = 0; i < x.length; i++) {
    const z = x[i]!;
    const weighted = w[i]! * k * normalCdf((z - mean) / sd) ** (k - 1);
    const y = f(z);
    first += weighted * y;
    second += weighted * y * y;
  }
  return { mean: first, second };
}

/** The Gaussian moments of an activation the recursions need, for z ~ N(mean, variance). */
export interface ActivationMoments {
  /** E[φ(z)] */
  mean: number;
  /** E[φ(z)²] */
  second: number;
  /** E[φ'(z)²] */
  slope: number;
  /** E[φ'(z)] */
  meanSlope: number;
}

export function activationMoments(act: ScalarActivation, mean: number, variance: number): ActivationMoments {
  const { x, w } = nodesFor(mean, Math.sqrt(Math.max(variance, 0)));
  let m = 0;
  let s = 0;
  let d = 0;
  let d1 = 0;
  for (let i = 0; i < x.length; i++) {
    const z = x[i]!;
    const y = act.f(z);
    const dy = act.df(z);
    m += w[i]! * y;
    s += w[i]! * y * y;
    d += w[i]! * dy * dy;
    d1 += w[i]! * dy;
  }
  return { mean: m, second: s, slope: d, meanSlope: d1 };
}
