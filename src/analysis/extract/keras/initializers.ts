/**
 * Keras initializers as strings (`'he_normal'`, Keras 1's `'uniform'`), classes (`HeNormal()`,
 * `RandomNormal(stddev=1.0)`, `VarianceScaling(scale=2., mode='fan_avg', distribution='uniform')`),
 * functions (`keras.initializers.he_normal(seed=1)`) and TensorFlow's `tf.*_initializer`s ->
 * InitializerIR with numeric params (Keras defaults filled in) and string options.
 */
import type { Node } from '../../python/syntax-tree';
import type { InitializerIR, InitializerName } from '../../../shared/ir';
import { argument, rangeOf, unparen } from '../../python/syntax';
import { callArgs } from '../../python/syntax-cache';
import { evaluateArg, type ArgContext } from './context';
import { lastSegment, modulePart } from './symbols';

interface InitSpec {
  name: InitializerName;
  /** Positional parameter names (numeric or string) in order. */
  positional: string[];
  /** Keras defaults of the numeric parameters. */
  params: Record<string, number>;
  /** Keras defaults of the string options. */
  options: Record<string, string>;
}

const spec = (name: InitializerName, positional: string[] = [], params: Record<string, number> = {}, options: Record<string, string> = {}): InitSpec => ({ name, positional, params, options });

/** Keyed by the lower-cased name without underscores, so 'he_normal', 'HeNormal' and he_normal() meet. */
const KERAS: Record<string, InitSpec> = {
  zeros: spec('zeros'),
  zero: spec('zeros'),
  ones: spec('ones'),
  one: spec('ones'),
  constant: spec('constant', ['value'], { value: 0 }),
  randomnormal: spec('random_normal', ['mean', 'stddev'], { mean: 0, stddev: 0.05 }),
  normal: spec('random_normal', ['mean', 'stddev'], { mean: 0, stddev: 0.05 }),
  randomuniform: spec('random_uniform', ['minval', 'maxval'], { minval: -0.05, maxval: 0.05 }),
  uniform: spec('random_uniform', ['minval', 'maxval'], { minval: -0.05, maxval: 0.05 }),
  truncatednormal: spec('truncated_normal', ['mean', 'stddev'], { mean: 0, stddev: 0.05 }),
  glorotuniform: spec('glorot_uniform'),
  glorotnormal: spec('glorot_normal'),
  xavieruniform: spec('glorot_uniform'),
  xaviernormal: spec('glorot_normal'),
  heuniform: spec('he_uniform'),
  henormal: spec('he_normal'),
  lecununiform: spec('lecun_uniform'),
  lecunnormal: spec('lecun_normal'),
  variancescaling: spec('variance_scaling', ['scale', 'mode', 'distribution'], { scale: 1 }, { mode: 'fan_in', distribution: 'truncated_normal' }),
  orthogonal: spec('orthogonal', ['gain'], { gain: 1 }),
  identity: spec('identity', ['gain'], { gain: 1 }),
};

/** TensorFlow's own initializer functions (TF2 defaults; the v1 truncated normal defaults to stddev 1). */
const TENSORFLOW: Record<string, InitSpec> = {
  zeros_initializer: spec('zeros'),
  ones_initializer: spec('ones'),
  constant_initializer: spec('constant', ['value'], { value: 0 }),
  random_normal_initializer: spec('random_normal', ['mean', 'stddev'], { mean: 0, stddev: 0.05 }),
  random_uniform_initializer: spec('random_uniform', ['minval', 'maxval'], { minval: -0.05, maxval: 0.05 }),
  truncated_normal_initializer: spec('truncated_normal', ['mean', 'stddev'], { mean: 0, stddev: 1 }),
  glorot_uniform_initializer: spec('glorot_uniform'),
  glorot_normal_initializer: spec('glorot_normal'),
  orthogonal_initializer: spec('orthogonal', ['gain'], { gain: 1 }),
  variance_scaling_initializer: spec('variance_scaling', ['scale', 'mode', 'distribution'], { scale: 1 }, { mode: 'fan_in', distribution: 'truncated_normal' }),
};

const key = (name: string) => name.toLowerCase().replace(/_/g, '');

function lookupQualified(qualified: string, ctx: ArgContext): InitSpec | null {
  const last = lastSegment(qualified);
  const module = modulePart(qualified);
  if (module.startsWith('keras.initializers') || module === 'tensorflow.initializers' || module === 'tensorflow.keras.initializers' || module === 'tensorflow.compat.v1.keras.initializers') {
    return KERAS[key(last)] ?? null;
  }
  if (module === 'tensorflow' || module === 'tensorflow.compat.v1' || module === 'tensorflow.compat.v1.initializers') {
    return TENSORFLOW[last] ?? (module.endsWith('initializers') ? (KERAS[key(last)] ?? null) : null);
  }
  // A bare class name (star import, or an import cell the notebook export lost): only CamelCase
  // class names count, so a local `normal(...)` helper is never taken for an initializer.
  if (!module && /^[A-Z]/.test(last) && ctx.symbols.usesKeras && !ctx.symbols.isLocal(last)) return KERAS[key(last)] ?? null;
  return null;
}

function make(spec: InitSpec, written: Node, spelling: string, call: Node | null, ctx: ArgContext): InitializerIR {
  const params = { ...spec.params };
  const options = { ...spec.options };
  if (call) {
    const args = callArgs(call);
    spec.positional.forEach((name, index) => {
      const value = evaluateArg(ctx, argument(args, index, name));
      if (typeof value === 'number') params[name] = value;
      else if (typeof value === 'string') options[name] = value;
      else if (value === undefined && argument(args, index, name)) {
        // Written but not statically known: drop the default rather than guess.
        delete params[name];
        delete options[name];
      }
    });
  }
  return { name: spec.name, params, options, spelling, range: rangeOf(written), explicit: true, framework: 'keras' };
}

/**
 * The initializer a written value denotes (following a name bound once in scope, e.g.
 * `init = HeNormal()`), or an 'unknown' initializer that still records what was written.
 */
export function initializerFromValue(written: Node, ctx: ArgContext): InitializerIR {
  const resolved = unparen(ctx.scope.resolveExpression(written));
  const value = evaluateArg(ctx, resolved);
  if (typeof value === 'string') {
    const found = KERAS[key(value)];
    if (found) return make(found, written, resolved.text, null, ctx);
  } else if (resolved.type === 'call') {
    const qualified = ctx.symbols.qualified(resolved.childForFieldName('function'));
    const found = qualified ? lookupQualified(qualified, ctx) : null;
    if (found) return make(found, written, resolved.text, resolved, ctx);
  } else {
    // A class or function passed without calling it: `kernel_initializer=initializers.he_normal`.
    const qualified = ctx.symbols.qualified(resolved);
    const found = qualified ? lookupQualified(qualified, ctx) : null;
    if (found) return make(found, written, resolved.text, null, ctx);
  }
  return { name: 'unknown', params: {}, options: {}, spelling: resolved.text, range: rangeOf(written), explicit: true, framework: 'keras' };
}
