/**
 * Optimizer objects as written: Keras constructors (`keras.optimizers.Adam(learning_rate=1e-3,
 * clipnorm=1.0)`, legacy `lr=`) and strings (`optimizer='adam'`, framework defaults), PyTorch
 * constructors (`torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)`, positional lr, param
 * groups). Values that cannot be evaluated statically are listed in `unresolved`.
 */
import type { Node } from '../../python/syntax-tree';
import type { OptimizerIR, Range } from '../../../shared/ir';
import { argument, callArguments, namedChildren, rangeOf, stringValue, unparen, requiredField } from '../../python/syntax';
import { numberAt, originOf, type Resolve } from './flow';

const KERAS_OPTIMIZER = /^(?:keras|tensorflow|tensorflow_addons)\.optimizers\.(?:[a-z_0-9]+\.)*([A-Z][A-Za-z0-9]*)$/;
const TORCH_OPTIMIZER = /^torch\.optim\.(?:(?!lr_scheduler|swa_utils)[a-z_0-9]+\.)*([A-Z][A-Za-z0-9]*)$/;
const KERAS_SCHEDULE = /^(?:keras|tensorflow)\.optimizers\.schedules\./;
/** Keras 1/2's lowercase aliases of the optimizer classes (`keras.optimizers.rmsprop()`), by the class each names. */
const KERAS_LOWERCASE_ALIASES: Record<string, string> = {
  sgd: 'SGD', rmsprop: 'RMSprop', adagrad: 'Adagrad', adadelta: 'Adadelta', adam: 'Adam', adamax: 'Adamax', nadam: 'Nadam',
};
const KERAS_LOWERCASE_OPTIMIZER = /^keras\.optimizers\.([a-z]+)$/;
/** Keras optimizer base classes and helpers that are not optimizers. */
const NOT_OPTIMIZERS = new Set(['Optimizer', 'LossScaleOptimizer', 'Schedule', 'LearningRateSchedule']);

/** Optimizer class names (Keras, PyTorch, TF Addons and common add-ons), as a regex alternation for finding calls. */
export const OPTIMIZER_CLASS_PATTERN = [
  'SGD', 'SGDW', 'Adam', 'AdamW', 'Adamax', 'Adagrad', 'Adadelta', 'RMSprop', 'Nadam', 'NAdam', 'RAdam', 'LBFGS', 'Ftrl', 'Lion',
  'Adafactor', 'SparseAdam', 'ASGD', 'Rprop', 'Lamb', 'LAMB', 'Yogi', 'LazyAdam', 'AdaBelief', 'NovoGrad', 'AdamP', 'Adan',
  ...Object.keys(KERAS_LOWERCASE_ALIASES),
].join('|');

/** Keras string identifiers accepted by `compile(optimizer=...)`. */
const KERAS_STRINGS = new Set(['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adadelta', 'adamax', 'nadam', 'ftrl', 'lion', 'adafactor']);

export type OptimizerFramework = 'keras' | 'torch';

/** The framework and class of an optimizer constructor (qualified name), or null. */
export function optimizerClass(qualified: string | null): { framework: OptimizerFramework; className: string } | null {
  if (!qualified) return null;
  if (KERAS_SCHEDULE.test(qualified)) return null;
  const k = KERAS_OPTIMIZER.exec(qualified);
  if (k && !NOT_OPTIMIZERS.has(k[1]!)) return { framework: 'keras', className: k[1]! };
  const alias = KERAS_LOWERCASE_OPTIMIZER.exec(qualified)?.[1];
  if (alias && Object.hasOwn(KERAS_LOWERCASE_ALIASES, alias)) return { framework: 'keras', className: KERAS_LOWERCASE_ALIASES[alias]! };
  const t = TORCH_OPTIMIZER.exec(qualified);
  if (t && !NOT_OPTIMIZERS.has(t[1]!)) return { framework: 'torch', className: t[1]! };
  return null;
}

/** 'SGD' -> 'sgd', 'RMSprop' -> 'rmsprop', 'NAdam' / 'Nadam' -> 'nadam'. */
export const canonicalOptimizerName = (className: string): string => className.toLowerCase();

function emptyOptimizer(name: string, spelling: string, file: string, range: Range): OptimizerIR {
  return {
    name,
    spelling,
    file,
    range,
    learningRate: null,
    learningRateRange: null,
    momentum: null,
    clipnorm: null,
    clipvalue: null,
    globalClipnorm: null,
    unresolved: [],
  };
}

/** `optimizer='adam'`: the framework defaults of that optimizer (no clipping, default rate). */
export function stringOptimizer(node: Node, file: string): OptimizerIR | null {
  const value = stringValue(node)?.toLowerCase();
  if (!value || !KERAS_STRINGS.has(value)) return null;
  return emptyOptimizer(value, node.text, file, rangeOf(node));
}

/** `model.compile(loss=...)` without an optimizer: Keras uses 'rmsprop' with its defaults. */
export function kerasDefaultOptimizer(compileCall: Node, file: string): OptimizerIR {
  return emptyOptimizer('rmsprop', '(default)', file, rangeOf(compileCall));
}

interface NumericArgument {
  value: number | null;
  range: Range | null;
}

/** Reads an argument: its value when known; `unresolved` gains its name when written but unknown. */
function readNumber(node: Node | null, key: string, resolve: Resolve, unresolved: string[]): NumericArgument {
  if (!node) return { value: null, range: null };
  // `clipnorm=None` is the same as not writing it.
  if (unparen(node).type === 'none') return { value: null, range: null };
  const value = numberAt(node, resolve);
  if (value === undefined) unresolved.push(key);
  return { value: value ?? null, range: rangeOf(node) };
}

/** A Keras learning rate may be a schedule: its `initial_learning_rate` is the rate the first steps use. */
function kerasLearningRate(node: Node | null, resolve: Resolve, unresolved: string[]): NumericArgument {
  if (!node) return { value: null, range: null };
  const origin = originOf(node, resolve);
  if (origin?.type === 'call' && KERAS_SCHEDULE.test(resolve(requiredField(origin, 'function')) ?? '')) {
    const initial = argument(callArguments(origin), 0, 'initial_learning_rate');
    if (initial) return readNumber(initial, 'learning_rate', resolve, unresolved);
  }
  return readNumber(node, 'learning_rate', resolve, unresolved);
}

/** Parses an optimizer constructor call. `className` and `framework` come from `optimizerClass`. */
export function constructedOptimizer(call: Node, framework: OptimizerFramework, className: string, file: string, resolve: Resolve): OptimizerIR {
  const fn = call.childForFieldName('function');
  const ir = emptyOptimizer(canonicalOptimizerName(className), fn?.text ?? className, file, rangeOf(call));
  const unresolved: string[] = [];
  const args = callArguments(call);
  if (args.splats.length > 0) unresolved.push('**');
  if (framework === 'keras') {
    const lr = kerasLearningRate(argument(args, 0, 'learning_rate', 'lr'), resolve, unresolved);
    ir.learningRate = lr.value;
    ir.learningRateRange = lr.range;
    ir.momentum = readNumber(args.keywords.get('momentum') ?? null, 'momentum', resolve, unresolved).value;
    ir.clipnorm = readNumber(args.keywords.get('clipnorm') ?? null, 'clipnorm', resolve, unresolved).value;
    ir.clipvalue = readNumber(args.keywords.get('clipvalue') ?? null, 'clipvalue', resolve, unresolved).value;
    ir.globalClipnorm = readNumber(args.keywords.get('global_clipnorm') ?? null, 'global_clipnorm', resolve, unresolved).value;
  } else {
    const lr = readNumber(argument(args, 1, 'lr'), 'learning_rate', resolve, unresolved);
    ir.learningRate = lr.value;
    ir.learningRateRange = lr.range;
    ir.momentum = readNumber(args.keywords.get('momentum') ?? null, 'momentum', resolve, unresolved).value;
    const groups = torchParamGroupRates(argument(args, 0, 'params'), resolve, unresolved);
    // The highest rate any parameter group uses is the one that can diverge.
    for (const g of groups) {
      if (ir.learningRate === null || g.value > ir.learningRate) {
        ir.learningRate = g.value;
        ir.learningRateRange = g.range;
      }
    }
  }
  ir.unresolved = unresolved;
  return ir;
}

/** Per-group `'lr'` entries of `[{'params': ..., 'lr': 1e-3}, ...]`. */
function torchParamGroupRates(params: Node | null, resolve: Resolve, unresolved: string[]): (NumericArgument & { value: number })[] {
  if (!params) return [];
  const list = unparen(params);
  if (list.type !== 'list' && list.type !== 'tuple') return [];
  const out: (NumericArgument & { value: number })[] = [];
  for (const item of namedChildren(list)) {
    if (item.type !== 'dictionary') continue;
    for (const pair of namedChildren(item)) {
      if (pair.type !== 'pair') continue;
      const key = stringValue(pair.childForFieldName('key'));
      const value = pair.childForFieldName('value');
      if (key === 'lr' && value) {
        const read = readNumber(value, 'learning_rate', resolve, unresolved);
        if (read.value !== null) out.push({ ...read, value: read.value });
      }
    }
  }
  return out;
}
