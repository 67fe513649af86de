/**
 * What tensor functions and methods do to the traced data flow in `forward`: activations, functional
 * layers (F.dropout, F.max_pool2d, torch.flatten), merges (torch.cat, torch.add) and operations that
 * only move or reshape data (view, permute, mean) and so pass their input through.
 */
import type { ActivationName, LayerKind, TensorOpConfig } from '../../../shared/ir';
import { functionalActivation, methodActivation } from './activations';

export type TensorOp =
  | { op: 'activation'; name: ActivationName }
  /** A functional layer: becomes a layer of `kind` (parameters read by the tracer). */
  | { op: 'layer'; kind: LayerKind; fn: string }
  | { op: 'merge'; kind: 'add' | 'concat' | 'multiply' }
  /**
   * Data moves or linear algebra: the result depends on the inputs, no layer is added. `reshapes`: the
   * result's shape differs from the input's in a way the trace does not compute (unsqueeze, einsum).
   */
  | { op: 'pass'; reshapes: boolean }
  /**
   * An operation on axes or a product of two tensors the trace records as a 'tensor-op' layer when its
   * operands are computed tensors and its axes constants (else it passes through as 'pass' reshaping).
   */
  | { op: 'tensor'; fn: string }
  /** Returns sizes or flags, not a tensor. */
  | { op: 'meta' }
  /** A loss of the outputs (F.cross_entropy): ends the model, it is no layer of it. */
  | { op: 'loss'; qualified: string }
  /** Elementwise math that is nonlinear but no activation of the catalog (exp, log, clamp): an opaque step. */
  | { op: 'pointwise' }
  /** Makes a new tensor that does not depend on the inputs' values (zeros_like, x.new_zeros). */
  | { op: 'fresh' }
  /**
   * Draws random numbers in forward (the reparameterisation `mu + std * torch.randn_like(std)`): a fresh
   * N(0, 1) (or uniform) input of the model that no gradient reaches.
   */
  | { op: 'noise' };

/** Operations that give a tensor of the input's shape (dtype, device, copies, elementwise masks). */
const SAME_SHAPE = new Set([
  'contiguous', 'contiguous_', 'flip', 'roll', 'to', 'float', 'double', 'half', 'long', 'int', 'bool', 'type', 'type_as',
  'clone', 'detach', 'cpu', 'cuda', 'masked_fill', 'masked_fill_', 'normalize', 'div', 'neg', 'requires_grad_', 'sort',
  'cumsum', 'where', 'tril', 'triu', 'Variable',
]);
/** Views, reductions and products: the result's shape is another, which the trace does not compute. */
const RESHAPING = new Set([
  'reshape', 'expand', 'expand_as',
  'repeat', 'repeat_interleave', 'mean', 'sum', 'max', 'min', 'amax', 'amin', 'narrow',
  'index_select', 'gather', 'unbind', 'view_as', 'reshape_as', 'select', 'movedim',
  'stack', 'pad', 'interpolate', 'topk', 'diagonal', 'unfold', 'fold', 'pixel_shuffle', 'upsample', 'unflatten',
  'norm',
]);
/** Operations on axes and products of two tensors whose shapes (and values) the trace computes: see TensorOpConfig. */
const TENSOR_OPS = new Set([
  'transpose', 'transpose_', 'swapaxes', 'swapdims', 't', 'permute', 'unsqueeze', 'unsqueeze_', 'squeeze', 'squeeze_',
  'matmul', 'bmm', 'mm', 'einsum', 'split', 'chunk', 'scaled_dot_product_attention',
]);
const POINTWISE = new Set([
  'log', 'log_', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'clamp', 'clamp_', 'clip', 'pow', 'square',
  'sin', 'cos', 'erf', 'reciprocal', 'sign', 'floor', 'ceil', 'round', 'hardtanh', 'logsigmoid', 'softmin', 'threshold',
]);
const FRESH = new Set([
  'zeros_like', 'ones_like', 'empty_like', 'full_like', 'new', 'new_empty', 'new_zeros', 'new_ones',
  'new_full', 'new_tensor', 'bernoulli_', 'bernoulli', 'random_', 'exponential_', 'multinomial', 'fill_', 'zero_',
]);
/** Random draws of floats: torch.randn_like(x), torch.normal(mu, sigma), x.normal_(), np.random.normal(0, 1, size). */
const NOISE = new Set(['randn_like', 'rand_like', 'randn', 'rand', 'normal', 'normal_', 'uniform_']);
const NUMPY_NOISE = /^numpy\.random\.(normal|randn|standard_normal|rand|uniform)$/;
const LOSSES = new Set(['cross_entropy', 'nll_loss', 'binary_cross_entropy', 'binary_cross_entropy_with_logits', 'kl_div', 'cosine_embedding_loss', 'ctc_loss']);
const META = new Set(['size', 'dim', 'numel', 'item', 'tolist', 'numpy', 'shape', 'ndimension', 'nelement', 'is_contiguous', 'get_device', 'element_size']);

const FUNCTIONAL_LAYERS: ReadonlyMap<string, LayerKind> = new Map([
  ['dropout', 'dropout'],
  ['dropout1d', 'dropout'],
  ['dropout2d', 'dropout'],
  ['dropout3d', 'dropout'],
  ['alpha_dropout', 'alpha-dropout'],
  ['feature_alpha_dropout', 'alpha-dropout'],
  ['max_pool1d', 'maxpool'],
  ['max_pool2d', 'maxpool'],
  ['max_pool3d', 'maxpool'],
  ['avg_pool1d', 'avgpool'],
  ['avg_pool2d', 'avgpool'],
  ['avg_pool3d', 'avgpool'],
  ['adaptive_avg_pool1d', 'global-pool'],
  ['adaptive_avg_pool2d', 'global-pool'],
  ['adaptive_avg_pool3d', 'global-pool'],
  ['adaptive_max_pool1d', 'global-pool'],
  ['adaptive_max_pool2d', 'global-pool'],
  ['adaptive_max_pool3d', 'global-pool'],
  ['layer_norm', 'layernorm'],
  ['batch_norm', 'batchnorm'],
  ['group_norm', 'groupnorm'],
  ['flatten', 'flatten'],
]);

/**
 * torch's flatten(start_dim, end_dim) as the IR holds it: null when it makes every axis after the batch
 * one (the 'flatten' layer), else the 'flatten' tensor operation. start_dim 0 (the default of
 * torch.flatten and x.flatten()) merges the batch too; the probe keeps the batch first, so that is read
 * as the same flatten layer, what such code means for one example.
 */
export function flattenOp(start: number, end: number): TensorOpConfig | null {
  return (start === 0 || start === 1) && end === -1 ? null : { op: 'flatten', start, end };
}

/** Whether a torch function's name (`cross_entropy`, `mse_loss`) is a loss. */
export function isLossFunction(name: string): boolean {
  return name.endsWith('_loss') || LOSSES.has(name);
}

/** A resolved library function applied to tensors (torch.X, torch.nn.functional.X). */
export function functionOp(qualified: string): TensorOp | null {
  const activation = functionalActivation(qualified);
  if (activation) return { op: 'activation', name: activation };
  if (NUMPY_NOISE.test(qualified)) return { op: 'noise' };
  if (qualified === 'torch.autograd.Variable' || qualified === 'torch.autograd.variable.Variable') return { op: 'pass', reshapes: false };
  const prefix = qualified.startsWith('torch.nn.functional.') ? 'torch.nn.functional.' : qualified.startsWith('torch.') ? 'torch.' : null;
  if (!prefix) return null;
  const fn = qualified.slice(prefix.length);
  if (fn.includes('.')) return null;
  // Losses end the model; they are not layers of it.
  if (isLossFunction(fn)) return { op: 'loss', qualified };
  const layer = FUNCTIONAL_LAYERS.get(fn);
  if (layer) return { op: 'layer', kind: layer, fn };
  if (fn === 'cat' || fn === 'concat' || fn === 'concatenate' || fn === 'hstack' || fn === 'vstack') return { op: 'merge', kind: 'concat' };
  if (fn === 'add' || fn === 'sub' || fn === 'subtract') return { op: 'merge', kind: 'add' };
  if (fn === 'mul' || fn === 'multiply') return { op: 'merge', kind: 'multiply' };
  if (fn === 'view') return { op: 'layer', kind: 'reshape', fn };
  return common(fn);
}

function common(name: string): TensorOp | null {
  if (SAME_SHAPE.has(name)) return { op: 'pass', reshapes: false };
  if (TENSOR_OPS.has(name)) return { op: 'tensor', fn: name };
  if (RESHAPING.has(name)) return { op: 'pass', reshapes: true };
  if (POINTWISE.has(name)) return { op: 'pointwise' };
  if (FRESH.has(name)) return { op: 'fresh' };
  if (NOISE.has(name)) return { op: 'noise' };
  if (META.has(name)) return { op: 'meta' };
  return null;
}

/** A method called on a tensor (`x.relu()`, `x.view(...)`, `x.size(0)`). */
export function methodOp(method: string): TensorOp | null {
  const activation = methodActivation(method);
  if (activation) return { op: 'activation', name: activation };
  if (method === 'flatten') return { op: 'layer', kind: 'flatten', fn: method };
  if (method === 'view' || method === 'reshape') return { op: 'layer', kind: 'reshape', fn: method };
  if (method === 'add' || method === 'add_' || method === 'sub' || method === 'sub_') return { op: 'merge', kind: 'add' };
  if (method === 'mul' || method === 'mul_') return { op: 'merge', kind: 'multiply' };
  return common(method);
}
