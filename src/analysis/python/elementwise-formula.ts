/**
 * Activations written by hand as a formula of one tensor: `0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi)
 * * (x + 0.044715 * torch.pow(x, 3))))` (GPT-2 and BERT ports), `x * torch.sigmoid(1.702 * x)`,
 * `x * torch.tanh(F.softplus(x))`. A function whose body only names its parameter, numbers and elementwise
 * library functions is computed at sample points, as numbers, and compared with the catalog's activations:
 * the one it matches is what the function is. Nothing of the user's code runs; the formula is read.
 */
import type { ActivationName, Framework } from '../../shared/ir';
import { scalarActivation, sigmoid, softplus } from '../../shared/knowledge/activation-functions';
import { erf } from '../../shared/knowledge/math';
import { numericBinary } from './constops';
import type { Node } from './syntax-tree';

type Scalar = (...args: number[]) => number;

/** Elementwise functions a formula may call, by the last segment of their name (torch.tanh, math.erf, tf.math.sigmoid). */
const FUNCTIONS: ReadonlyMap<string, Scalar> = new Map<string, Scalar>([
  ['tanh', Math.tanh],
  ['erf', erf],
  ['exp', Math.exp],
  ['sqrt', Math.sqrt],
  ['sigmoid', sigmoid],
  ['softplus', softplus],
  ['pow', Math.pow],
  ['square', (x) => x * x],
  ['abs', Math.abs],
  ['log', Math.log],
  ['log1p', Math.log1p],
  ['negative', (x) => -x],
  ['neg', (x) => -x],
  ['maximum', Math.max],
  ['minimum', Math.min],
]);

/** Constants of the math libraries (math.pi, np.pi). */
const CONSTANTS: ReadonlyMap<string, number> = new Map([
  ['pi', Math.PI],
  ['e', Math.E],
]);

/** Activations a formula is compared with: smooth ones people write by hand, and the classics. */
const CANDIDATES: readonly ActivationName[] = ['gelu', 'swish', 'mish', 'softplus', 'elu', 'selu', 'sigmoid', 'tanh', 'softsign', 'relu'];

/** Where the formula is computed: dense around 0, where activations differ, out to where they saturate. */
const SAMPLE_POINTS: readonly number[] = Array.from({ length: 49 }, (_, i) => -6 + i * 0.25);

/**
 * Largest difference, relative to 1 + |activation|, still read as the same activation: the tanh and sigmoid
 * approximations of GELU are within 0.0005 and 0.021 of it; GELU and swish, the closest pair, differ by 0.11.
 */
const MATCH_TOLERANCE = 0.025;

/** Statements of a body a formula may have: assignments of names, then `return`; a docstring is skipped. */
export function formulaStatements(def: Node): { assigns: [string, Node][]; result: Node } | null {
  const body = def.childForFieldName('body');
  if (!body) return null;
  const assigns: [string, Node][] = [];
  const statements = body.namedChildren.filter((s) => s.type !== 'comment');
  for (const [i, statement] of statements.entries()) {
    if (statement.type === 'return_statement') {
      const value = statement.namedChildren[0];
      return i === statements.length - 1 && value ? { assigns, result: value } : null;
    }
    if (statement.type !== 'expression_statement') return null;
    const inner = statement.namedChildren[0];
    if (inner?.type === 'string' && i === 0) continue;
    if (inner?.type !== 'assignment') return null;
    const left = inner.childForFieldName('left');
    const right = inner.childForFieldName('right');
    if (left?.type !== 'identifier' || !right) return null;
    assigns.push([left.text, right]);
  }
  return null;
}

/** The one tensor parameter of `def` (after `self` for a method); null when there are others without defaults. */
export function tensorParameter(def: Node, isMethod: boolean): string | null {
  const params = def.childForFieldName('parameters')?.namedChildren ?? [];
  // `x` or `x: torch.Tensor`; a default, *args or **kwargs is not a formula's single argument.
  const names = params.map((p) => (p.type === 'identifier' ? p.text : p.type === 'typed_parameter' && p.namedChildren[0]?.type === 'identifier' ? p.namedChildren[0].text : null));
  const rest = isMethod ? names.slice(1) : names;
  if (isMethod && names[0] === null) return null;
  return rest.length === 1 && rest[0] ? rest[0] : null;
}

class NotAFormula extends Error {}
/**
 * The one instance thrown: asked of every function a model-dense file calls, an Error made per throw
 * captured a stack trace each time (1 % of analyzing such a file). Nothing reads its stack.
 */
const NOT_A_FORMULA = new NotAFormula('not an elementwise formula');

/**
 * The value of `n` at `x`, or NotAFormula thrown when it names anything but the parameter, earlier names,
 * numbers and elementwise functions of libraries (`isLibrary` tells whether a name is an imported module).
 */
function valueAt(n: Node, names: ReadonlyMap<string, number>, isLibrary: (name: string) => boolean): number {
  const at = (m: Node | null | undefined): number => {
    if (!m) throw NOT_A_FORMULA;
    return valueAt(m, names, isLibrary);
  };
  switch (n.type) {
    case 'integer':
    case 'float': {
      const v = Number(n.text.replace(/_/g, ''));
      if (!Number.isFinite(v)) throw NOT_A_FORMULA;
      return v;
    }
    case 'identifier': {
      const v = names.get(n.text);
      if (v === undefined) throw NOT_A_FORMULA;
      return v;
    }
    case 'parenthesized_expression':
      return at(n.namedChildren[0]);
    case 'unary_operator': {
      const v = at(n.childForFieldName('argument'));
      const op = n.childForFieldName('operator')?.text;
      if (op === '-') return -v;
      if (op === '+') return v;
      throw NOT_A_FORMULA;
    }
    case 'binary_operator': {
      const value = numericBinary(n.childForFieldName('operator')?.text ?? '', at(n.childForFieldName('left')), at(n.childForFieldName('right')));
      if (value === undefined) throw NOT_A_FORMULA;
      return value;
    }
    case 'attribute': {
      // math.pi, np.pi
      const head = n.childForFieldName('object');
      const value = CONSTANTS.get(n.childForFieldName('attribute')?.text ?? '');
      if (value === undefined || !head || !isLibraryPath(head, isLibrary)) throw NOT_A_FORMULA;
      return value;
    }
    case 'call': {
      const fn = n.childForFieldName('function');
      const args = (n.childForFieldName('arguments')?.namedChildren ?? []).filter((a) => a.type !== 'comment');
      if (args.some((a) => a.type === 'keyword_argument' || a.type === 'list_splat' || a.type === 'dictionary_splat')) throw NOT_A_FORMULA;
      if (fn?.type !== 'attribute') throw NOT_A_FORMULA;
      const name = fn.childForFieldName('attribute')?.text ?? '';
      const scalar = FUNCTIONS.get(name);
      const object = fn.childForFieldName('object');
      if (!scalar || !object) throw NOT_A_FORMULA;
      // torch.tanh(v), F.softplus(v), or a method of a value: v.pow(3), v.sigmoid()
      const operands = isLibraryPath(object, isLibrary) ? args.map(at) : [at(object), ...args.map(at)];
      if (operands.length === 0 || operands.length > 2) throw NOT_A_FORMULA;
      return scalar(...operands);
    }
    default:
      throw NOT_A_FORMULA;
  }
}

/** `torch`, `np`, `torch.nn.functional`, `tf.math`: a dotted name whose head is an imported module. */
export function isLibraryPath(n: Node, isLibrary: (name: string) => boolean): boolean {
  if (n.type === 'identifier') return isLibrary(n.text);
  if (n.type !== 'attribute') return false;
  const object = n.childForFieldName('object');
  return object !== null && isLibraryPath(object, isLibrary);
}

/** The formula's values at the sample points; null when `def` is not such a formula. */
function sampled(def: Node, isMethod: boolean, isLibrary: (name: string) => boolean): number[] | null {
  const param = tensorParameter(def, isMethod);
  const statements = formulaStatements(def);
  if (!param || !statements) return null;
  try {
    return SAMPLE_POINTS.map((x) => {
      const names = new Map([[param, x]]);
      for (const [name, value] of statements.assigns) names.set(name, valueAt(value, names, isLibrary));
      return valueAt(statements.result, names, isLibrary);
    });
  } catch (err) {
    if (err instanceof NotAFormula) return null;
    throw err;
  }
}

/**
 * The catalog activation a function (or a module's `forward`, `isMethod`) computes as a formula of its one
 * tensor argument; null when it is not such a formula or matches none.
 */
export function activationOfFormula(def: Node, isMethod: boolean, framework: Framework, isLibrary: (name: string) => boolean): ActivationName | null {
  const values = sampled(def, isMethod, isLibrary);
  if (!values || values.some((v) => !Number.isFinite(v))) return null;
  let best: { name: ActivationName; gap: number } | null = null;
  for (const name of CANDIDATES) {
    const activation = scalarActivation(name, framework);
    if (!activation) continue;
    const gap = Math.max(...SAMPLE_POINTS.map((x, i) => Math.abs(values[i]! - activation.f(x)) / (1 + Math.abs(activation.f(x)))));
    if (gap <= MATCH_TOLERANCE && (!best || gap < best.gap)) best = { name, gap };
  }
  return best?.name ?? null;
}
