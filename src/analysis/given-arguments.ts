/**
 * A model built with arguments the user gives (the probe's `--arg d_model=512`) where the code leaves a
 * class's or builder's parameters to callers the workspace does not have: the analyzed text gets one more
 * statement at its end, a call of the definition with those values, which the call-site reading builds
 * like any call of it (python/call-sites.ts). The user's file is not changed and nothing is run; a value
 * must be a Python literal (a number, a string, True / False / None, or a tuple or list of those).
 */
import type { Parser } from 'web-tree-sitter';
import type { ModelIR } from '../shared/ir';

export interface GivenArgument {
  name: string;
  /** The value as the user wrote it, a Python literal. */
  value: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LITERALS = new Set(['integer', 'float', 'true', 'false', 'none']);

/** Whether `text` parses as one Python literal expression (no names, calls or operators but a sign). */
function isLiteral(parser: Parser, text: string): boolean {
  const tree = parser.parse(`(${text})\n`);
  if (!tree) return false;
  try {
    const statement = tree.rootNode.namedChildren[0];
    const expression = tree.rootNode.namedChildCount === 1 && statement?.type === 'expression_statement' && statement.namedChildCount === 1 ? statement.namedChildren[0] : null;
    const literal = (node: typeof expression): boolean => {
      if (!node) return false;
      if (node.type === 'parenthesized_expression') return node.namedChildCount === 1 && literal(node.namedChildren[0] ?? null);
      if (LITERALS.has(node.type)) return true;
      if (node.type === 'string') return node.namedChildren.every((c) => c.type !== 'interpolation');
      if (node.type === 'unary_operator') return node.childForFieldName('operator')?.text === '-' && ['integer', 'float'].includes(node.childForFieldName('argument')?.type ?? '');
      if (node.type === 'tuple' || node.type === 'list') return node.namedChildren.every((c) => literal(c));
      return false;
    };
    return !tree.rootNode.hasError && literal(expression);
  } finally {
    tree.delete();
  }
}

/** `name=value` pairs -> arguments; the problem with the first that is not one (a message naming it), else null. */
export function parseGivenArguments(parser: Parser, pairs: readonly string[]): { args: GivenArgument[]; problem: string | null } {
  const args: GivenArgument[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? '' : pair.slice(0, eq).trim();
    const value = eq < 0 ? '' : pair.slice(eq + 1).trim();
    if (!IDENTIFIER.test(name)) return { args, problem: `"${pair}" is not NAME=VALUE with NAME a parameter name` };
    if (args.some((a) => a.name === name)) return { args, problem: `${name} is given twice` };
    if (!isLiteral(parser, value)) return { args, problem: `the value of ${name} ("${value}") is not a Python literal (a number, a string, True, False, None, or a tuple or list of them)` };
    args.push({ name, value });
  }
  return { args, problem: null };
}

/**
 * The class or builder function of `text` (the model's file) that builds `model`, which a call builds it
 * with; null for a model no definition builds (a Sequential at module level).
 */
export function definitionName(model: ModelIR, text: string): string | null {
  const defined = (name: string) => IDENTIFIER.test(name) && new RegExp(`^[ \\t]*(?:async[ \\t]+)?(?:def|class)[ \\t]+${name}\\b`, 'm').test(text);
  // A model one call of several built is named after that call (`Mlp(fill=0)`): its class's name comes first.
  const candidates = model.instance ? [model.name.replace(/\(.*$/s, ''), ...model.exports] : model.exports;
  return candidates.find(defined) ?? null;
}

/**
 * The parameters a call of `definition` (a class of `text`, through its __init__, or a function) takes by
 * name; null when it takes any (`**kwargs`) or is not found.
 */
export function parametersOf(parser: Parser, text: string, definition: string): string[] | null {
  const tree = parser.parse(text);
  if (!tree) return null;
  try {
    const named = (type: string) => tree.rootNode.descendantsOfType(type).find((d) => d.childForFieldName('name')?.text === definition) ?? null;
    const cls = named('class_definition');
    const def = cls ? (cls.childForFieldName('body')?.namedChildren.map((c) => (c.type === 'decorated_definition' ? c.childForFieldName('definition') : c)).find((c) => c?.type === 'function_definition' && c.childForFieldName('name')?.text === '__init__') ?? null) : named('function_definition');
    // A class without an __init__ of its own takes its base's: not read here.
    if (!def) return null;
    const names: string[] = [];
    for (const param of def.childForFieldName('parameters')?.namedChildren ?? []) {
      if (param.type === 'dictionary_splat_pattern') return null;
      const name = param.type === 'identifier' ? param.text : (param.childForFieldName('name')?.text ?? param.namedChildren.find((c) => c.type === 'identifier')?.text);
      if (name && param.type !== 'list_splat_pattern') names.push(name);
    }
    return cls ? names.slice(1) : names;
  } finally {
    tree.delete();
  }
}

/** The definition that builds `model` (definitionName) and the parameters a call of it can set (parametersOf); null when no definition does. */
export function definitionOf(parser: Parser, text: string, model: ModelIR): { definition: string; parameters: string[] | null } | null {
  const definition = definitionName(model, text);
  return definition ? { definition, parameters: parametersOf(parser, text, definition) } : null;
}

/** `text` with a call of `definition` with `args` appended, and the 0-based line of that call. */
export function withGivenCall(text: string, definition: string, args: readonly GivenArgument[]): { text: string; line: number } {
  const body = text.endsWith('\n') ? text : `${text}\n`;
  const line = body.split('\n').length;
  return { text: `${body}\n${callText(definition, args)}\n`, line };
}

function callText(definition: string, args: readonly GivenArgument[]): string {
  return `${definition}(${args.map((a) => `${a.name}=${a.value}`).join(', ')})`;
}

/** `d_model=512, num_heads=8` as typed in one line (the editor's input box): its arguments, split where Python splits them. */
export function splitArgumentList(parser: Parser, text: string): string[] {
  const tree = parser.parse(`f(${text})\n`);
  if (!tree) return [text];
  try {
    const call = tree.rootNode.namedChildren[0]?.namedChildren[0];
    const args = call?.type === 'call' && !tree.rootNode.hasError ? call.childForFieldName('arguments') : null;
    return args ? args.namedChildren.map((a) => a.text) : [text];
  } finally {
    tree.delete();
  }
}

/** A call of the definition that builds a model, with arguments the user gave, checked: what to analyze and how to find its model. */
export interface GivenCall {
  /** The model's file's text with the call appended (withGivenCall). */
  text: string;
  /** 0-based line of the call in `text`. */
  line: number;
  /** The call as written, the model's name. */
  label: string;
}

/**
 * The call of the class or builder that builds `chosen` (a model of `text`) with `pairs` (`NAME=VALUE`), or
 * the problem with them: not a definition's model, not literals, a name the definition does not take.
 */
export function givenCall(parser: Parser, text: string, chosen: ModelIR, pairs: readonly string[]): GivenCall | { problem: string } {
  const built = definitionOf(parser, text, chosen);
  if (!built) return { problem: `model ${chosen.name} is not built by a class or function of its file whose parameters a call could set` };
  const { definition, parameters } = built;
  const { args, problem } = parseGivenArguments(parser, pairs);
  if (problem) return { problem };
  if (args.length === 0) return { problem: 'no NAME=VALUE argument given' };
  const unknown = parameters ? args.find((a) => !parameters.includes(a.name)) : undefined;
  if (unknown && parameters) return { problem: `${definition} has no parameter ${unknown.name} (its parameters: ${parameters.join(', ') || 'none'})` };
  return { ...withGivenCall(text, definition, args), label: callText(definition, args) };
}

/**
 * The model the given call builds among the models of the analyzed text: the one named after that call,
 * or the definition's only model when every call builds the same; named after the call. Null when the
 * call built none the analyzer could read apart.
 */
export function givenModel(models: readonly ModelIR[], chosen: ModelIR, call: GivenCall): ModelIR | null {
  const built = models.filter((m) => m.file === chosen.file && m.range.start.line === chosen.range.start.line);
  const model = built.find((m) => m.instance !== undefined && m.instance.file === chosen.file && m.instance.range.start.line === call.line) ?? (built.length === 1 ? built[0] : undefined);
  if (!model) return null;
  return model.instance ? model : { ...model, name: call.label };
}
