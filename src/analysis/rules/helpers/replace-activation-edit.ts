/**
 * A text edit that turns an activation as written into ReLU, in the same spelling family:
 * `'tanh'` -> `'relu'`, `nn.Sigmoid()` -> `nn.ReLU()`, `torch.tanh(x)` -> `torch.relu(x)`,
 * `tf.math.sigmoid` -> `tf.nn.relu`, `layers.Softmax(axis=1)` -> `layers.ReLU()`.
 * Null when the written text is not recognised exactly once (no guessing).
 */
import type { ActivationIR } from '../../../shared/ir';
import type { TextEdit } from '../../../shared/findings';
import { parseCallArguments } from './call-arguments';
import { lineStarts, offsetAt, rangeOf } from './text-offsets';

/** Source spellings of the activations a rule may want to replace, per canonical name. */
const SPELLINGS: Partial<Record<ActivationIR['name'], string[]>> = {
  sigmoid: ['sigmoid', 'Sigmoid'],
  tanh: ['tanh', 'Tanh'],
  hard_sigmoid: ['hard_sigmoid', 'hardsigmoid', 'Hardsigmoid', 'HardSigmoid'],
  softsign: ['softsign', 'Softsign'],
  softmax: ['softmax', 'Softmax'],
  log_softmax: ['log_softmax', 'LogSoftmax'],
};

export function replaceActivationWithReluEdit(file: string, text: string, activation: ActivationIR): TextEdit | null {
  const spellings = SPELLINGS[activation.name];
  if (!spellings || !activation.range) return null;
  const starts = lineStarts(text);
  const start = offsetAt(starts, activation.range.start);
  const end = offsetAt(starts, activation.range.end);
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return null;
  const written = text.slice(start, end);
  const pattern = new RegExp(`(?<![\\w])(${spellings.join('|')})(?![\\w])`, 'g');
  const matches = [...written.matchAll(pattern)];
  if (matches.length !== 1) return null;
  const match = matches[0]!;
  let from = start + match.index;
  let to = from + match[0].length;
  const isClass = /^[A-Z]/.test(match[0]);
  let replacement = isClass ? 'ReLU' : 'relu';
  // TensorFlow has tf.nn.relu but neither tf.relu nor tf.math.relu.
  const tfPrefix = /\btf\.(?:math\.)?$/.exec(text.slice(Math.max(0, from - 8), from));
  if (tfPrefix) {
    from -= tfPrefix[0].length;
    replacement = 'tf.nn.relu';
  }
  if (text[to] === '(') {
    const call = parseCallArguments(text, to, text.length);
    if (!call) return null;
    if (isClass) {
      // nn.Softmax(dim=1) -> nn.ReLU(): the class arguments belong to the old activation.
      to = call.close + 1;
      replacement += '()';
    } else if (call.args.filter((a) => a.keyword === null && !a.unpacked).length !== 1 || call.args.length !== 1) {
      // F.softmax(x, dim=1): relu takes no dim; rewriting the arguments is not a safe guess.
      return null;
    }
  }
  return { file, range: rangeOf(starts, from, to), newText: replacement };
}
