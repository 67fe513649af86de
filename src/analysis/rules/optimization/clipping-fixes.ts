/**
 * Text edits that add gradient clipping: `clipnorm=` on a Keras optimizer (or a clipping optimizer in
 * place of a string / the compile default), and a `clip_grad_norm_` line before a PyTorch `step()`.
 * Every edit is built from the file's own text and returns null when it cannot be made exactly.
 */
import type { OptimizerIR, Range, TrainingLoopIR } from '../../../shared/ir';
import type { Fix, TextEdit } from '../../../shared/findings';
import type { RuleContext } from '../types';
import { keywordArgumentEdit } from '../helpers/keyword-argument-edit';
import { leadingIndent, lineStarts, offsetAt } from '../helpers/text-offsets';

const KERAS_CLASS: Record<string, string> = {
  adam: 'Adam',
  adamw: 'AdamW',
  sgd: 'SGD',
  rmsprop: 'RMSprop',
  nadam: 'Nadam',
  adagrad: 'Adagrad',
  adadelta: 'Adadelta',
  adamax: 'Adamax',
  ftrl: 'Ftrl',
};

/** How this file can name `keras.optimizers`, from its imports; null when it cannot without a new import. */
function kerasOptimizersPrefix(text: string): string | null {
  if (/^[ \t]*import tensorflow as tf\b/m.test(text)) return 'tf.keras.optimizers.';
  if (/^[ \t]*(from tensorflow import keras|import keras)\s*$/m.test(text)) return 'keras.optimizers.';
  return null;
}

function sliceOf(text: string, range: Range): string {
  const starts = lineStarts(text);
  return text.slice(offsetAt(starts, range.start), offsetAt(starts, range.end));
}

/**
 * `Adam(learning_rate=1e-3)` -> `Adam(learning_rate=1e-3, clipnorm=1.0)`; `'adam'` ->
 * `keras.optimizers.Adam(clipnorm=1.0)`; `compile(loss=...)` -> `compile(loss=..., optimizer=keras.optimizers.RMSprop(clipnorm=1.0))`.
 */
export function kerasClipnormFix(optimizer: OptimizerIR, defaultAtCompile: Range | null, context: RuleContext, clipnorm: number): Fix | null {
  const text = context.sourceText(optimizer.file);
  if (text === undefined) return null;
  const value = clipnorm.toFixed(1);
  const title = `Clip gradients: clipnorm=${value}`;
  const fix = (edits: (TextEdit | null)[]): Fix | null =>
    edits.every((e): e is TextEdit => e !== null) ? { title, safety: 'unsafe', edits } : null;
  if (!defaultAtCompile && !/^['"]/.test(optimizer.spelling)) {
    return fix([keywordArgumentEdit(optimizer.file, text, optimizer.range, 'clipnorm', value)]);
  }
  // A string or the compile default becomes a constructor, spelled the way the file can reach it.
  const className = KERAS_CLASS[optimizer.name];
  const spelled = className ? optimizerSpelling(optimizer.file, text, className) : null;
  if (!spelled) return null;
  const constructor = `${spelled.name}(clipnorm=${value})`;
  const replace = defaultAtCompile
    ? keywordArgumentEdit(optimizer.file, text, defaultAtCompile, 'optimizer', constructor)
    : { file: optimizer.file, range: optimizer.range, newText: constructor };
  return fix(spelled.importEdit ? [spelled.importEdit, replace] : [replace]);
}

/**
 * How to name a Keras optimizer class in this file: through `tf` / `keras` when imported, else by a
 * new `from <keras package>.optimizers import Class` line after the file's last top-level import.
 */
function optimizerSpelling(file: string, text: string, className: string): { name: string; importEdit: TextEdit | null } | null {
  const prefix = kerasOptimizersPrefix(text);
  if (prefix) return { name: `${prefix}${className}`, importEdit: null };
  if (new RegExp(`^[ \\t]*from[ \\t]+(tensorflow\\.)?keras\\.optimizers[ \\t]+import[^\\n]*\\b${className}\\b`, 'm').test(text)) return { name: className, importEdit: null };
  const pkg = /^[ \t]*from[ \t]+tensorflow\.keras\b/m.test(text) ? 'tensorflow.keras' : /^[ \t]*from[ \t]+keras\b/m.test(text) ? 'keras' : null;
  if (!pkg) return null;
  const lines = text.split('\n');
  const lastImport = lines.reduce((last, line, i) => (/^(import|from)\s+\S/.test(line) && !line.trimEnd().endsWith('(') && !line.trimEnd().endsWith('\\') ? i : last), -1);
  if (lastImport < 0) return null;
  const at = { line: lastImport + 1, character: 0 };
  return { name: className, importEdit: { file, range: { start: at, end: at }, newText: `from ${pkg}.optimizers import ${className}\n` } };
}

/** `torch.nn` as this file can spell it: "torch.nn" after `import torch`, "nn" after `from torch import nn`. */
function torchNnPrefix(text: string): string | null {
  if (/^[ \t]*import torch\s*(#.*)?$/m.test(text) || /^[ \t]*import torch\s*,/m.test(text)) return 'torch.nn';
  if (/^[ \t]*(from torch import (\([^)]*\bnn\b|.*\bnn\b)|import torch\.nn as nn\b)/m.test(text)) return 'nn';
  return null;
}

/** The lines of the function that contains `line` (from the nearest less-indented `def`); null at module level. */
function enclosingFunctionText(lines: string[], line: number, indent: number): string | null {
  for (let i = line; i >= 0; i--) {
    const m = /^(\s*)(async\s+)?def\s/.exec(lines[i]!);
    if (m && m[1]!.length < indent) return lines.slice(i, line + 1).join('\n');
  }
  return null;
}

/**
 * What to clip: `model.parameters()` when the optimizer was built over `model` and that name is
 * used in the function of the step (or both are at module level); otherwise the optimizer's own
 * parameter groups, which are always in scope where `step()` is called.
 */
function parametersExpression(loop: TrainingLoopIR, context: RuleContext, optimizerExpr: string, lines: string[], line: number, indent: number): string {
  const optimizer = loop.optimizer;
  const ctorText = optimizer && optimizer.file === loop.file ? context.sourceText(optimizer.file) : undefined;
  const name = optimizer && ctorText !== undefined ? /^[\w.]+\(\s*([A-Za-z_]\w*)\.parameters\(\)\s*[,)]/.exec(sliceOf(ctorText, optimizer.range))?.[1] : undefined;
  if (name) {
    const scopeText = enclosingFunctionText(lines, line, indent);
    const inScope = scopeText === null ? new RegExp(`^${name}\\s*=`, 'm').test(lines.join('\n')) : new RegExp(`\\b${name}\\b`).test(scopeText);
    if (inScope) return `${name}.parameters()`;
  }
  return `[p for group in ${optimizerExpr}.param_groups for p in group["params"]]`;
}

/** Adds `gradient_clip_val=...` to the Lightning `Trainer(...)` call that runs the loop. */
export function trainerClipFix(loop: TrainingLoopIR, context: RuleContext, maxNorm: number): Fix | null {
  const text = context.sourceText(loop.file);
  if (text === undefined) return null;
  const value = maxNorm.toFixed(1);
  const edit = keywordArgumentEdit(loop.file, text, loop.step, 'gradient_clip_val', value);
  return edit ? { title: `Clip gradients: gradient_clip_val=${value}`, safety: 'unsafe', edits: [edit] } : null;
}

/** Inserts `torch.nn.utils.clip_grad_norm_(...)` on its own line right before the loop's `step()`. */
export function clipBeforeStepFix(loop: TrainingLoopIR, context: RuleContext, maxNorm: number): Fix | null {
  const text = context.sourceText(loop.file);
  // With a closure the gradients are computed inside step(): a line before it would clip stale ones.
  if (text === undefined || loop.closure) return null;
  const nn = torchNnPrefix(text);
  if (!nn) return null;
  const lines = text.split('\n');
  const line = loop.step.start.line;
  const lineText = lines[line];
  if (lineText === undefined) return null;
  const indentation = leadingIndent(lineText);
  // The step must start its line (not `if ok: optimizer.step()`), or an inserted line would change the flow.
  if (indentation.length !== loop.step.start.character) return null;
  const stepText = sliceOf(text, loop.step);
  const scaler = /^([\w.]+)\.step\(\s*([\w.]+)\s*\)$/.exec(stepText);
  const plain = /^([\w.]+)\.step\(\s*\)$/.exec(stepText);
  const optimizerExpr = scaler ? scaler[2]! : plain ? plain[1]! : null;
  if (!optimizerExpr) return null;
  const params = parametersExpression(loop, context, optimizerExpr, lines, line, indentation.length);
  const inserted: string[] = [];
  const between = lines.slice(loop.backward.start.line, line).join('\n');
  if (scaler && !between.includes('unscale_(')) inserted.push(`${indentation}${scaler[1]}.unscale_(${optimizerExpr})`);
  inserted.push(`${indentation}${nn}.utils.clip_grad_norm_(${params}, max_norm=${maxNorm.toFixed(1)})`);
  const at = { line, character: 0 };
  return {
    title: `Clip gradients before ${stepText}`,
    safety: 'unsafe',
    edits: [{ file: loop.file, range: { start: at, end: at }, newText: `${inserted.join('\n')}\n` }],
  };
}
