/**
 * PyTorch activations: module classes (nn.ReLU()), functions (F.relu, torch.tanh) and tensor methods
 * (x.relu()), mapped onto the canonical ActivationName with their numeric parameters.
 */
import type { ActivationName } from '../../../shared/ir';

/** torch.nn activation module classes (by simple name) -> canonical name. */
export const ACTIVATION_MODULES: ReadonlyMap<string, ActivationName> = new Map([
  ['ReLU', 'relu'],
  ['ReLU6', 'relu6'],
  ['LeakyReLU', 'leaky_relu'],
  ['RReLU', 'leaky_relu'],
  ['PReLU', 'prelu'],
  ['ELU', 'elu'],
  ['CELU', 'elu'],
  ['SELU', 'selu'],
  ['GELU', 'gelu'],
  ['SiLU', 'swish'],
  ['Mish', 'mish'],
  ['Softplus', 'softplus'],
  ['Sigmoid', 'sigmoid'],
  ['Hardsigmoid', 'hard_sigmoid'],
  ['Tanh', 'tanh'],
  ['Softsign', 'softsign'],
  ['Softmax', 'softmax'],
  ['Softmax2d', 'softmax'],
  ['LogSoftmax', 'log_softmax'],
  ['Identity', 'linear'],
  ['Hardswish', 'unknown'],
  ['Hardtanh', 'unknown'],
  ['Tanhshrink', 'unknown'],
  ['Softshrink', 'unknown'],
  ['Hardshrink', 'unknown'],
  ['LogSigmoid', 'unknown'],
  ['Threshold', 'unknown'],
  ['GLU', 'unknown'],
  ['Softmin', 'unknown'],
]);

/** Constructor arguments of activation modules that carry numeric parameters: [param, position, keyword]. */
export const ACTIVATION_MODULE_PARAMS: ReadonlyMap<string, [string, number, string][]> = new Map([
  ['LeakyReLU', [['negative_slope', 0, 'negative_slope']]],
  ['ELU', [['alpha', 0, 'alpha']]],
  ['CELU', [['alpha', 0, 'alpha']]],
  ['PReLU', [['num_parameters', 0, 'num_parameters'], ['init', 1, 'init']]],
  ['Softplus', [['beta', 0, 'beta'], ['threshold', 1, 'threshold']]],
  ['Softmax', [['dim', 0, 'dim']]],
  ['LogSoftmax', [['dim', 0, 'dim']]],
  ['RReLU', [['lower', 0, 'lower'], ['upper', 1, 'upper']]],
]);

/** Defaults torch applies when the argument is not written. */
export const ACTIVATION_DEFAULTS: ReadonlyMap<string, Record<string, number>> = new Map<string, Record<string, number>>([
  ['LeakyReLU', { negative_slope: 0.01 }],
  ['ELU', { alpha: 1 }],
  ['CELU', { alpha: 1 }],
  ['PReLU', { init: 0.25 }],
  ['Softplus', { beta: 1, threshold: 20 }],
]);

/** Functional spellings (last part of torch.X / torch.nn.functional.X / tensor.X()) -> canonical name. */
const FUNCTIONAL: ReadonlyMap<string, ActivationName> = new Map([
  ['relu', 'relu'],
  ['relu_', 'relu'],
  ['relu6', 'relu6'],
  ['leaky_relu', 'leaky_relu'],
  ['leaky_relu_', 'leaky_relu'],
  ['rrelu', 'leaky_relu'],
  ['prelu', 'prelu'],
  ['elu', 'elu'],
  ['elu_', 'elu'],
  ['celu', 'elu'],
  ['selu', 'selu'],
  ['selu_', 'selu'],
  ['gelu', 'gelu'],
  ['silu', 'swish'],
  ['mish', 'mish'],
  ['softplus', 'softplus'],
  ['sigmoid', 'sigmoid'],
  ['sigmoid_', 'sigmoid'],
  ['hardsigmoid', 'hard_sigmoid'],
  ['tanh', 'tanh'],
  ['tanh_', 'tanh'],
  ['softsign', 'softsign'],
  ['softmax', 'softmax'],
  ['log_softmax', 'log_softmax'],
  ['exp', 'exponential'],
  ['exp_', 'exponential'],
  ['abs', 'abs'],
  ['abs_', 'abs'],
  ['hardswish', 'unknown'],
  ['hardtanh', 'unknown'],
  ['logsigmoid', 'unknown'],
  ['glu', 'unknown'],
]);

/** Modules whose functions are activations: torch.nn.functional.relu, torch.sigmoid, torch.special.expit. */
const FUNCTIONAL_MODULES = ['torch.nn.functional.', 'torch.'];

/** The canonical activation of a resolved function name (e.g. "torch.nn.functional.relu"), or null. */
export function functionalActivation(qualified: string): ActivationName | null {
  if (qualified === 'torch.special.expit') return 'sigmoid';
  for (const prefix of FUNCTIONAL_MODULES) {
    if (!qualified.startsWith(prefix)) continue;
    const rest = qualified.slice(prefix.length);
    if (rest.includes('.')) continue;
    const name = FUNCTIONAL.get(rest);
    // torch.relu_/torch.selu exist, torch.leaky_relu does not; accept the ones torch exposes on both.
    if (name) return name;
  }
  return null;
}

/** The canonical activation of a tensor method (`x.relu()`, `x.sigmoid_()`, `x.softmax(-1)`), or null. */
export function methodActivation(method: string): ActivationName | null {
  const allowed = ['relu', 'relu_', 'sigmoid', 'sigmoid_', 'tanh', 'tanh_', 'softmax', 'log_softmax', 'exp', 'exp_', 'abs', 'abs_'];
  return allowed.includes(method) ? (FUNCTIONAL.get(method) ?? null) : null;
}

/** Numeric arguments of functional activations: F.leaky_relu(x, 0.2), F.elu(x, alpha=1.0), F.softmax(x, dim=1). */
export const FUNCTIONAL_PARAMS: ReadonlyMap<ActivationName, [string, number, string][]> = new Map([
  ['leaky_relu', [['negative_slope', 1, 'negative_slope']]],
  ['elu', [['alpha', 1, 'alpha']]],
  ['softmax', [['dim', 1, 'dim']]],
  ['log_softmax', [['dim', 1, 'dim']]],
  ['softplus', [['beta', 1, 'beta'], ['threshold', 2, 'threshold']]],
]);

export const FUNCTIONAL_DEFAULTS: ReadonlyMap<ActivationName, Record<string, number>> = new Map<ActivationName, Record<string, number>>([
  ['leaky_relu', { negative_slope: 0.01 }],
  ['elu', { alpha: 1 }],
  ['softplus', { beta: 1, threshold: 20 }],
]);
