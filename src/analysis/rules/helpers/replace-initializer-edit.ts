/**
 * A text edit that makes a layer use another kernel initializer, in the spelling of its framework:
 * - Keras: replaces the written `kernel_initializer=` value (`'he_normal'`, `HeNormal()`, a name) with
 *   a string such as `'glorot_uniform'`, or adds the keyword when the default was never written;
 * - PyTorch: rewrites the written `nn.init.*_(w, ...)` / `w.data.normal_(...)` call into the
 *   recommended `nn.init` call on the same tensor, keeping how the file spells `nn.init`.
 * Null when the written text is not recognised (no guessing).
 */
import type { InitializerIR, LayerIR, Range } from '../../../shared/ir';
import type { TextEdit } from '../../../shared/findings';
import { parseCallArguments } from './call-arguments';
import { keywordArgumentEdit } from './keyword-argument-edit';
import { lineAt, lineStarts, offsetAt } from './text-offsets';

function slice(text: string, range: Range): string | null {
  const starts = lineStarts(text);
  const start = offsetAt(starts, range.start);
  const end = offsetAt(starts, range.end);
  return Number.isFinite(start) && Number.isFinite(end) && end >= start ? text.slice(start, end) : null;
}

/** `'he_normal'` in the quote style of the written value, or else of the line it is written on. */
function quoted(kerasString: string, written: string, line: string): string {
  const bare = kerasString.replace(/^['"]|['"]$/g, '');
  const first = written.trim()[0];
  const double = first === '"' || (first !== "'" && (line.match(/"/g)?.length ?? 0) > (line.match(/'/g)?.length ?? 0));
  return double ? `"${bare}"` : `'${bare}'`;
}

/** How the file spells torch.nn.init, judged from its imports. */
function torchInitPrefix(text: string): string | null {
  if (/^\s*(?:import\s+torch\.nn\s+as\s+nn|from\s+torch\s+import\s+(?:.*\b)?nn\b)/m.test(text)) return 'nn.init.';
  if (/^\s*from\s+torch\.nn\s+import\s+(?:.*\b)?init\b/m.test(text)) return 'init.';
  if (/^\s*import\s+torch\b/m.test(text)) return 'torch.nn.init.';
  return null;
}

/** The tensor a torch initializer call sets, and the `nn.init` prefix it is written with. */
function torchTarget(written: string): { tensor: string; prefix: string | null } | null {
  const call = parseCallArguments(written, 0, written.length);
  if (!call) return null;
  const callee = written.slice(0, call.open).trim();
  const fn = /^(.*?)(\w+_)$/.exec(callee);
  if (!fn) return null;
  if (/(?:^|\.)init\.$/.test(fn[1]!)) {
    // nn.init.zeros_(w, ...) / torch.nn.init.zeros_(tensor=w)
    const arg = call.args.find((a) => a.keyword === 'tensor') ?? call.args.find((a) => a.keyword === null && !a.unpacked);
    return arg ? { tensor: written.slice(arg.valueStart, arg.valueEnd), prefix: fn[1]! } : null;
  }
  // w.data.normal_(0, 1) / self.fc.weight.zero_()
  const object = fn[1]!.replace(/\.$/, '').replace(/\.data$/, '');
  return object ? { tensor: object, prefix: null } : null;
}

/**
 * `recommended` is a RecommendedInit spelling: a Keras string (`'he_normal'`) or a PyTorch call on
 * `w` using `nn.init.` (`nn.init.kaiming_normal_(w, nonlinearity='relu')`).
 */
export function replaceInitializerEdit(file: string, text: string, layer: LayerIR, init: InitializerIR, recommended: string): TextEdit | null {
  if (init.framework === 'keras') {
    if (!init.range) return keywordArgumentEdit(file, text, layer.range, 'kernel_initializer', recommended);
    const written = slice(text, init.range);
    if (written === null || written.includes('\n')) return null;
    const line = lineAt(text, init.range.start.line) ?? '';
    return { file, range: init.range, newText: quoted(recommended, written, line) };
  }
  if (!init.range) return null;
  const written = slice(text, init.range);
  if (written === null) return null;
  const target = torchTarget(written);
  if (!target || !/^nn\.init\.\w+_\(w\b/.test(recommended)) return null;
  const prefix = target.prefix ?? torchInitPrefix(text);
  if (!prefix) return null;
  const call = recommended.replace(/^nn\.init\./, prefix).replace(/\(w\b/, `(${target.tensor}`).replace(/nn\.init\.calculate_gain/g, `${prefix}calculate_gain`);
  return { file, range: init.range, newText: call };
}

/**
 * Sets `nonlinearity='...'` in a written PyTorch kaiming_* call. Null when nonlinearity is passed
 * positionally (a keyword would then clash) or the call cannot be read.
 */
export function kaimingNonlinearityEdit(file: string, text: string, init: InitializerIR, nonlinearity: string): TextEdit | null {
  if (!init.range) return null;
  const written = slice(text, init.range);
  const call = written === null ? null : parseCallArguments(written, 0, written.length);
  if (!call) return null;
  const positional = call.args.filter((a) => a.keyword === null && !a.unpacked).length;
  const hasTensorKeyword = call.args.some((a) => a.keyword === 'tensor');
  if (positional + (hasTensorKeyword ? 1 : 0) >= 4) return null;
  return keywordArgumentEdit(file, text, init.range, 'nonlinearity', `'${nonlinearity}'`);
}
