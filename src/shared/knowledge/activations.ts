/**
 * What each activation does to a signal and its gradient, and which weight variance keeps a deep
 * stack of it stable.
 */
import type { ActivationIR, ActivationName, Framework, InitializerIR } from '../ir';
import type { ReferenceKey } from './references';

/**
 * How an activation shapes variance propagation:
 * - relu-like: kills (or shrinks) one half of the input, so the weights need twice the variance (He);
 * - self-normalizing: SELU, whose fixed point needs Var(W) = 1/fan_in (LeCun);
 * - saturating: sigmoid/tanh/softsign/hard_sigmoid, derived in the linear regime around 0 (Glorot);
 * - linear: no activation;
 * - output: normalizes a distribution (softmax/log_softmax), used on the last layer;
 * - other: no variance-scaling rule applies (exponential, unknown).
 */
export type ActivationClass = 'relu-like' | 'self-normalizing' | 'saturating' | 'linear' | 'output' | 'other';

export interface ActivationInfo {
  name: ActivationName;
  title: string;
  formula: string;
  range: string;
  /** Largest value of |f'(x)|, as text (some depend on a parameter). */
  maxDerivative: string;
  /** f'(0) (for ReLU: the right derivative; frameworks use 0 at exactly 0). */
  derivativeAtZero: string;
  /** Whether the outputs are centred on zero for zero-mean inputs. */
  zeroCentred: boolean;
  zeroCentredNote: string;
  /** Where the gradient goes to (near) zero. */
  saturation: string;
  activationClass: ActivationClass;
  /** Spelling in each framework. */
  spellings: { keras: string; torch: string };
  notes: string;
  references: ReferenceKey[];
}

function info(fields: ActivationInfo): ActivationInfo {
  return fields;
}

const ACTIVATIONS: Record<ActivationName, ActivationInfo> = {
  linear: info({
    name: 'linear', title: 'Linear (no activation)', formula: 'f(x) = x', range: '(-∞, ∞)', maxDerivative: '1', derivativeAtZero: '1',
    zeroCentred: true, zeroCentredNote: 'zero-mean in, zero-mean out', saturation: 'none', activationClass: 'linear',
    spellings: { keras: "activation=None / 'linear'", torch: '(no activation) / nn.Identity()' },
    notes: 'Stacking linear layers without a nonlinearity collapses them into one linear map. Used for regression outputs and logits.',
    references: ['glorot2010'],
  }),
  relu: info({
    name: 'relu', title: 'ReLU', formula: 'f(x) = max(0, x)', range: '[0, ∞)', maxDerivative: '1', derivativeAtZero: '0 for x < 0, 1 for x > 0',
    zeroCentred: false, zeroCentredNote: 'outputs are never negative, so their mean is positive', saturation: 'zero gradient for every x < 0 (a unit whose input stays negative is "dead")',
    activationClass: 'relu-like', spellings: { keras: "'relu' / layers.ReLU()", torch: 'nn.ReLU() / F.relu' },
    notes: 'Does not saturate for positive inputs, so gradients pass unchanged through active units. Because it zeroes half of a symmetric input, it halves the second moment of the signal: weights need Var(W) = 2/fan_in to compensate (He et al. 2015).',
    references: ['nair2010', 'he2015'],
  }),
  relu6: info({
    name: 'relu6', title: 'ReLU6', formula: 'f(x) = min(max(0, x), 6)', range: '[0, 6]', maxDerivative: '1', derivativeAtZero: '0 for x < 0, 1 for 0 < x < 6',
    zeroCentred: false, zeroCentredNote: 'outputs are never negative', saturation: 'zero gradient for x < 0 and x > 6', activationClass: 'relu-like',
    spellings: { keras: "'relu6' / layers.ReLU(max_value=6)", torch: 'nn.ReLU6() / F.relu6' },
    notes: 'A ReLU clipped at 6 (mobile networks); initialize as for ReLU.', references: ['he2015'],
  }),
  leaky_relu: info({
    name: 'leaky_relu', title: 'Leaky ReLU', formula: 'f(x) = x for x ≥ 0, αx for x < 0', range: '(-∞, ∞)', maxDerivative: '1 (α for x < 0)', derivativeAtZero: 'α for x < 0, 1 for x > 0',
    zeroCentred: false, zeroCentredNote: 'negative outputs are scaled by α, so the mean stays positive', saturation: 'none (the negative side keeps slope α)', activationClass: 'relu-like',
    spellings: { keras: 'layers.LeakyReLU(negative_slope=0.3) (Keras default α = 0.3; tf.nn.leaky_relu: 0.2)', torch: 'nn.LeakyReLU(0.01) (PyTorch default α = 0.01)' },
    notes: 'Keeps a small gradient for negative inputs, so units cannot die. Variance-preserving weights: Var(W) = 2 / ((1 + α²) fan_in) (He et al. 2015).',
    references: ['maas2013', 'he2015'],
  }),
  prelu: info({
    name: 'prelu', title: 'PReLU (parametric ReLU)', formula: 'f(x) = x for x ≥ 0, a·x for x < 0, a learned', range: '(-∞, ∞)', maxDerivative: 'max(1, |a|)', derivativeAtZero: 'a for x < 0, 1 for x > 0',
    zeroCentred: false, zeroCentredNote: 'positive mean unless the learned slope reaches 1', saturation: 'none', activationClass: 'relu-like',
    spellings: { keras: 'layers.PReLU() (slope initialized to 0)', torch: 'nn.PReLU() (slope initialized to 0.25)' },
    notes: 'A leaky ReLU whose slope is learned. He et al. 2015 introduced it together with the He initialization, Var(W) = 2 / ((1 + a²) fan_in).',
    references: ['he2015'],
  }),
  elu: info({
    name: 'elu', title: 'ELU', formula: 'f(x) = x for x > 0, α(eˣ − 1) for x ≤ 0', range: '(-α, ∞)', maxDerivative: '1 (for α ≤ 1)', derivativeAtZero: '1 (for α = 1)',
    zeroCentred: false, zeroCentredNote: 'negative outputs pull the mean closer to zero than ReLU, but not to zero', saturation: 'saturates to −α for large negative inputs', activationClass: 'relu-like',
    spellings: { keras: "'elu' / layers.ELU()", torch: 'nn.ELU() / F.elu' },
    notes: 'Smooth, with non-zero gradient for negative inputs. Initialize as for ReLU (He).', references: ['clevert2016'],
  }),
  selu: info({
    name: 'selu', title: 'SELU (scaled ELU)', formula: 'f(x) = λx for x > 0, λα(eˣ − 1) for x ≤ 0, λ ≈ 1.0507, α ≈ 1.6733', range: '(-λα, ∞) ≈ (-1.758, ∞)', maxDerivative: 'λα ≈ 1.758 (just below 0); λ ≈ 1.051 for x > 0', derivativeAtZero: '≈ 1.758 from the left, ≈ 1.051 from the right',
    zeroCentred: true, zeroCentredNote: 'drives activations towards mean 0 and variance 1 when the self-normalizing conditions hold', saturation: 'saturates to −λα for large negative inputs',
    activationClass: 'self-normalizing', spellings: { keras: "'selu'", torch: 'nn.SELU() / F.selu' },
    notes: 'Self-normalizing only with standardized inputs, LeCun-normal weights (Var(W) = 1/fan_in), a plain feed-forward stack, and AlphaDropout instead of Dropout (Klambauer et al. 2017).',
    references: ['klambauer2017'],
  }),
  gelu: info({
    name: 'gelu', title: 'GELU', formula: 'f(x) = x·Φ(x)', range: '[≈ −0.170, ∞)', maxDerivative: '≈ 1.129 (at x ≈ 1.41)', derivativeAtZero: '0.5',
    zeroCentred: false, zeroCentredNote: 'mostly positive outputs', saturation: 'gradient fades for large negative inputs', activationClass: 'relu-like',
    spellings: { keras: "'gelu'", torch: 'nn.GELU() / F.gelu' },
    notes: 'Smooth ReLU-like unit used in Transformers; ReLU-family initialization (He) or a small fixed std with normalization layers.', references: ['hendrycks2016'],
  }),
  swish: info({
    name: 'swish', title: 'Swish / SiLU', formula: 'f(x) = x·σ(x)', range: '[≈ −0.278, ∞)', maxDerivative: '≈ 1.100 (at x ≈ 2.40)', derivativeAtZero: '0.5',
    zeroCentred: false, zeroCentredNote: 'mostly positive outputs', saturation: 'gradient fades for large negative inputs', activationClass: 'relu-like',
    spellings: { keras: "'swish' / 'silu'", torch: 'nn.SiLU() / F.silu' },
    notes: 'Smooth, non-monotonic ReLU-like unit; initialize as for ReLU.', references: ['ramachandran2017'],
  }),
  mish: info({
    name: 'mish', title: 'Mish', formula: 'f(x) = x·tanh(softplus(x))', range: '[≈ −0.309, ∞)', maxDerivative: '≈ 1.089 (at x ≈ 1.49)', derivativeAtZero: '0.6',
    zeroCentred: false, zeroCentredNote: 'mostly positive outputs', saturation: 'gradient fades for large negative inputs', activationClass: 'relu-like',
    spellings: { keras: "'mish'", torch: 'nn.Mish() / F.mish' },
    notes: 'Smooth, non-monotonic ReLU-like unit; initialize as for ReLU.', references: ['misra2019'],
  }),
  softplus: info({
    name: 'softplus', title: 'Softplus', formula: 'f(x) = ln(1 + eˣ)', range: '(0, ∞)', maxDerivative: '1 (approached as x → ∞)', derivativeAtZero: '0.5',
    zeroCentred: false, zeroCentredNote: 'outputs are always positive', saturation: 'gradient fades for large negative inputs', activationClass: 'relu-like',
    spellings: { keras: "'softplus'", torch: 'nn.Softplus() / F.softplus' },
    notes: 'A smooth ReLU; initialize as for ReLU.', references: ['glorot2010'],
  }),
  sigmoid: info({
    name: 'sigmoid', title: 'Sigmoid (logistic)', formula: 'σ(x) = 1 / (1 + e⁻ˣ)', range: '(0, 1)', maxDerivative: '0.25 (at x = 0)', derivativeAtZero: '0.25',
    zeroCentred: false, zeroCentredNote: 'outputs are always positive (σ(0) = 0.5), so the next layer sees a non-zero mean and its weight gradients share one sign', saturation: 'both sides: σ′(x) < 0.01 for |x| > 4.6',
    activationClass: 'saturating', spellings: { keras: "'sigmoid'", torch: 'nn.Sigmoid() / torch.sigmoid' },
    notes: 'Even unsaturated, each layer multiplies the backward signal by at most 0.25, so stacks of sigmoids make gradients vanish (Glorot & Bengio 2010). Fine on a binary-classification output.',
    references: ['glorot2010', 'lecun1998'],
  }),
  hard_sigmoid: info({
    name: 'hard_sigmoid', title: 'Hard sigmoid', formula: 'f(x) = clip(x/6 + 1/2, 0, 1) (Keras 3, PyTorch); clip(0.2x + 0.5, 0, 1) (tf.keras 2)', range: '[0, 1]', maxDerivative: '1/6 (Keras 3, PyTorch) or 0.2 (tf.keras 2)', derivativeAtZero: '1/6 or 0.2',
    zeroCentred: false, zeroCentredNote: 'outputs are never negative', saturation: 'exactly zero gradient outside |x| ≤ 3 (2.5 in tf.keras 2)', activationClass: 'saturating',
    spellings: { keras: "'hard_sigmoid'", torch: 'nn.Hardsigmoid() / F.hardsigmoid' },
    notes: 'A piecewise-linear sigmoid: cheaper, with an even smaller slope and hard saturation.', references: ['glorot2010'],
  }),
  tanh: info({
    name: 'tanh', title: 'Hyperbolic tangent', formula: 'tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ) = 2σ(2x) − 1', range: '(-1, 1)', maxDerivative: '1 (at x = 0)', derivativeAtZero: '1',
    zeroCentred: true, zeroCentredNote: 'odd function: zero-mean in, zero-mean out', saturation: "both sides: tanh′(x) < 0.01 for |x| > 3.0", activationClass: 'saturating',
    spellings: { keras: "'tanh'", torch: 'nn.Tanh() / torch.tanh' },
    notes: 'Linear around 0 with slope 1, which is the regime Glorot & Bengio 2010 derived their initialization for. Saturates for large inputs, where gradients vanish.',
    references: ['glorot2010', 'lecun1998'],
  }),
  softsign: info({
    name: 'softsign', title: 'Softsign', formula: 'f(x) = x / (1 + |x|)', range: '(-1, 1)', maxDerivative: '1 (at x = 0)', derivativeAtZero: '1',
    zeroCentred: true, zeroCentredNote: 'odd function', saturation: 'both sides, polynomially (more gently than tanh)', activationClass: 'saturating',
    spellings: { keras: "'softsign'", torch: 'nn.Softsign() / F.softsign' },
    notes: 'Studied by Glorot & Bengio 2010 as a gentler alternative to tanh.', references: ['glorot2010'],
  }),
  softmax: info({
    name: 'softmax', title: 'Softmax', formula: 'f(x)ᵢ = eˣⁱ / Σⱼ eˣʲ', range: '(0, 1), summing to 1', maxDerivative: '∂fᵢ/∂xᵢ = pᵢ(1 − pᵢ) ≤ 0.25', derivativeAtZero: '(1/k)(1 − 1/k) for k equal logits',
    zeroCentred: false, zeroCentredNote: 'outputs are positive and sum to 1', saturation: 'when one logit dominates, every Jacobian entry goes to 0', activationClass: 'output',
    spellings: { keras: "'softmax'", torch: 'nn.Softmax(dim=-1) / F.softmax (usually folded into nn.CrossEntropyLoss)' },
    notes: 'Turns logits into class probabilities; belongs on the output layer of a classifier.', references: ['glorot2010'],
  }),
  log_softmax: info({
    name: 'log_softmax', title: 'Log-softmax', formula: 'f(x)ᵢ = xᵢ − log Σⱼ eˣʲ', range: '(-∞, 0]', maxDerivative: '1', derivativeAtZero: '1 − 1/k on the diagonal',
    zeroCentred: false, zeroCentredNote: 'outputs are never positive', saturation: 'none on the diagonal', activationClass: 'output',
    spellings: { keras: "'log_softmax'", torch: 'nn.LogSoftmax(dim=-1) / F.log_softmax (pairs with nn.NLLLoss)' },
    notes: 'Numerically stable log-probabilities for the output layer.', references: ['glorot2010'],
  }),
  exponential: info({
    name: 'exponential', title: 'Exponential', formula: 'f(x) = eˣ', range: '(0, ∞)', maxDerivative: 'unbounded', derivativeAtZero: '1',
    zeroCentred: false, zeroCentredNote: 'outputs are always positive', saturation: 'gradient fades for large negative inputs and explodes for large positive ones', activationClass: 'other',
    spellings: { keras: "'exponential'", torch: 'torch.exp' },
    notes: 'Used for positive outputs such as rates; no variance-preserving initialization exists for it.', references: [],
  }),
  abs: info({
    name: 'abs', title: 'Absolute value', formula: 'f(x) = |x|', range: '[0, ∞)', maxDerivative: '1', derivativeAtZero: '0 (sign(x): −1 for x < 0, 1 for x > 0)',
    zeroCentred: false, zeroCentredNote: 'outputs are never negative', saturation: 'none: |f′(x)| = 1 for every x ≠ 0', activationClass: 'other',
    spellings: { keras: 'tf.abs (in a Lambda)', torch: 'torch.abs / x.abs()' },
    notes: 'Keeps the second moment (|x|² = x²) and passes every gradient with magnitude 1, flipping its sign for negative inputs; used for distances such as |a − b| in siamese networks.', references: [],
  }),
  unknown: info({
    name: 'unknown', title: 'Unknown activation', formula: '(not known statically)', range: 'unknown', maxDerivative: 'unknown', derivativeAtZero: 'unknown',
    zeroCentred: false, zeroCentredNote: 'unknown', saturation: 'unknown', activationClass: 'other',
    spellings: { keras: '', torch: '' }, notes: 'Gradient Lens could not tell which activation this is, so it judges nothing about it.', references: [],
  }),
};

/** Facts about an activation, with the initializer that suits it in both frameworks (null when none does). */
export function activationInfo(name: ActivationName): ActivationInfo & { suitedInit: { keras: string; torch: string } | null } {
  const info = ACTIVATIONS[name];
  const keras = recommendedInit(info.name, 'keras');
  const torch = recommendedInit(info.name, 'torch');
  return { ...info, suitedInit: keras && torch ? { keras: keras.spelling, torch: torch.spelling } : null };
}

/** Whether the activation gives values below zero for some inputs: its range (as the table writes it) starts below 0. */
export function reachesBelowZero(name: ActivationName): boolean {
  return /^[([]\s*(?:≈\s*)?[-−]/.test(ACTIVATIONS[name].range);
}

export function activationClass(name: ActivationName): ActivationClass {
  return ACTIVATIONS[name].activationClass;
}

/** An activation as the knowledge base needs it: a name, plus parameters such as a leaky slope. */
export type ActivationLike = ActivationName | Pick<ActivationIR, 'name' | 'params'>;

function asActivation(activation: ActivationLike): Pick<ActivationIR, 'name' | 'params'> {
  return typeof activation === 'string' ? { name: activation, params: {} } : activation;
}

/**
 * Negative slope of a leaky/parametric ReLU: the written `alpha`/`negative_slope`, otherwise the
 * framework default (Keras LeakyReLU 0.3, PyTorch 0.01; PReLU starts at 0 in Keras, 0.25 in PyTorch).
 * 0 for every other activation.
 */
export function negativeSlope(activation: ActivationLike, framework?: Framework): number {
  const act = asActivation(activation);
  const written = act.params.negative_slope ?? act.params.alpha ?? act.params.init ?? act.params.slope;
  if (act.name === 'leaky_relu') return written ?? (framework === 'torch' ? 0.01 : framework === 'keras' ? 0.3 : 0.01);
  if (act.name === 'prelu') return written ?? (framework === 'torch' ? 0.25 : 0);
  return 0;
}

/**
 * True when the activation computes the identity: 'linear', or a leaky ReLU whose negative slope is
 * exactly 1 (f(x) = x on both sides; torch's `nn.LeakyReLU(True)` passes True, 1.0, as the slope).
 * A PReLU is not, whatever it starts at: its slope is learned.
 */
export function isIdentityActivation(activation: ActivationLike, framework?: Framework): boolean {
  const act = asActivation(activation);
  return act.name === 'linear' || (act.name === 'leaky_relu' && negativeSlope(act, framework) === 1);
}

/** Which variance convention a target std follows. */
export type VarianceConvention = 'he' | 'lecun' | 'glorot';

export interface TargetStd {
  std: number;
  convention: VarianceConvention;
  /** e.g. "2 / fan_in", "2 / ((1 + 0.2²) · fan_in)", "2 / (fan_in + fan_out)". */
  varianceFormula: string;
}

/**
 * The variance-preserving weight std for a layer followed by `activation`.
 *
 * Conventions (and why):
 * - ReLU family (relu, relu6, leaky_relu, prelu, elu, gelu, swish, mish, softplus): He et al. 2015,
 *   Var(W) = 2 / ((1 + α²) · fan_in) with α the negative slope (0 for ReLU). A rectifier drops half
 *   of the second moment; the factor 2 restores it. The smooth variants behave like ReLU for the
 *   purpose of scale, which is how the frameworks and their papers initialize them.
 * - SELU: LeCun, Var(W) = 1 / fan_in. Klambauer et al. 2017 prove the (0, 1) fixed point for exactly
 *   this variance; Glorot's fan_avg would move it.
 * - tanh, softsign, sigmoid, hard_sigmoid, softmax, log_softmax and linear: Glorot & Bengio 2010,
 *   Var(W) = 2 / (fan_in + fan_out). Their derivation assumes units in the linear regime around 0
 *   (slope 1: exactly tanh, softsign and the identity) and balances the forward condition
 *   (1/fan_in) with the backward one (1/fan_out). It is also what both frameworks pair with these
 *   activations (Keras' default glorot_uniform; PyTorch's calculate_gain is 1 for sigmoid and linear).
 *   LeCun's 1/fan_in differs from it by at most sqrt(2) when fan_out ≤ fan_in.
 *
 * Returns null when no convention applies (exponential, unknown) or a fan is unknown / not positive.
 */
export function targetStd(activation: ActivationLike, fanIn: number | null, fanOut: number | null, framework?: Framework): TargetStd | null {
  const act = asActivation(activation);
  if (!fanIn || fanIn <= 0) return null;
  switch (activationClass(act.name)) {
    case 'relu-like': {
      const slope = negativeSlope(act, framework);
      const denom = 1 + slope * slope;
      const formula = slope === 0 ? '2 / fan_in' : `2 / ((1 + ${formatSlope(slope)}²) · fan_in)`;
      return { std: Math.sqrt(2 / (denom * fanIn)), convention: 'he', varianceFormula: formula };
    }
    case 'self-normalizing':
      return { std: Math.sqrt(1 / fanIn), convention: 'lecun', varianceFormula: '1 / fan_in' };
    case 'saturating':
    case 'output':
    case 'linear':
      if (!fanOut || fanOut <= 0) return null;
      return { std: Math.sqrt(2 / (fanIn + fanOut)), convention: 'glorot', varianceFormula: '2 / (fan_in + fan_out)' };
    default:
      return null;
  }
}

function formatSlope(slope: number): string {
  return String(Number(slope.toPrecision(3)));
}

export interface RecommendedInit {
  /** The canonical initializer to use. */
  init: Pick<InitializerIR, 'name' | 'params' | 'options'>;
  /** What to write for `kernel_initializer=` (Keras) or the `nn.init` call on `w` (PyTorch). */
  spelling: string;
  /** The Keras and PyTorch spellings side by side, for hovers. */
  keras: string;
  torch: string;
  /** Short reason with the convention. */
  why: string;
}

/**
 * The initializer to write for a layer followed by `activation`. Keras values are strings that can
 * replace a `kernel_initializer=` argument as they are; PyTorch values are `nn.init` calls on `w`.
 * Null when no convention applies.
 */
export function recommendedInit(activation: ActivationLike, framework: Framework): RecommendedInit | null {
  const act = asActivation(activation);
  switch (activationClass(act.name)) {
    case 'relu-like':
      return heRecommendation(framework, negativeSlope(act, framework));
    case 'self-normalizing':
      return lecunRecommendation(framework);
    case 'saturating':
    case 'output':
    case 'linear':
      return glorotRecommendation(framework, act.name === 'tanh');
    default:
      return null;
  }
}

function recommendation(framework: Framework, init: RecommendedInit['init'], keras: string, torch: string, why: string): RecommendedInit {
  return { init, keras, torch, why, spelling: framework === 'keras' ? keras : torch };
}

/** He initialization for the ReLU family (negative slope 0 for relu itself). */
export function heRecommendation(framework: Framework, slope = 0): RecommendedInit {
  if (slope > 0) {
    const a = formatSlope(slope);
    return recommendation(
      framework,
      framework === 'keras'
        ? { name: 'he_normal', params: {}, options: {} }
        : { name: 'kaiming_normal', params: { a: slope }, options: { mode: 'fan_in', nonlinearity: 'leaky_relu' } },
      "'he_normal'",
      `nn.init.kaiming_normal_(w, a=${a}, nonlinearity='leaky_relu')`,
      `He initialization for a rectifier with negative slope ${a} (He et al. 2015)`,
    );
  }
  return recommendation(
    framework,
    framework === 'keras' ? { name: 'he_normal', params: {}, options: {} } : { name: 'kaiming_normal', params: { a: 0 }, options: { mode: 'fan_in', nonlinearity: 'relu' } },
    "'he_normal'",
    "nn.init.kaiming_normal_(w, nonlinearity='relu')",
    'He initialization, Var(W) = 2/fan_in, for the ReLU family (He et al. 2015)',
  );
}

/** LeCun normal, which SELU's self-normalization assumes. */
export function lecunRecommendation(framework: Framework): RecommendedInit {
  return recommendation(
    framework,
    framework === 'keras' ? { name: 'lecun_normal', params: {}, options: {} } : { name: 'kaiming_normal', params: { a: 0 }, options: { mode: 'fan_in', nonlinearity: 'linear' } },
    "'lecun_normal'",
    // PyTorch's own docs: for SELU use nonlinearity='linear' (variance 1/N), not 'selu' (gain 3/4).
    "nn.init.kaiming_normal_(w, nonlinearity='linear')",
    'LeCun normal, Var(W) = 1/fan_in, which SELU self-normalization requires (Klambauer et al. 2017)',
  );
}

function glorotRecommendation(framework: Framework, isTanh: boolean): RecommendedInit {
  return recommendation(
    framework,
    framework === 'keras' ? { name: 'glorot_uniform', params: {}, options: {} } : { name: 'xavier_uniform', params: { gain: isTanh ? 5 / 3 : 1 }, options: {} },
    "'glorot_uniform'",
    isTanh ? "nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain('tanh'))" : 'nn.init.xavier_uniform_(w)',
    'Glorot (Xavier), Var(W) = 2/(fan_in + fan_out), for units used around their linear regime (Glorot & Bengio 2010)',
  );
}
