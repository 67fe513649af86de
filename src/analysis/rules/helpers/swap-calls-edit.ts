/**
 * Text edits that swap two layer constructor calls, which reorders the layers when the calls are
 * written in execution order: items of Sequential([...]) / nn.Sequential(...), model.add(...) lines,
 * or `x = Layer(...)(x)` lines. Not valid for subclassed models, where the call order lives in
 * call()/forward(), nor when only one of the two is made in a loop.
 */
import type { LayerIR, ModelIR } from '../../../shared/ir';
import type { TextEdit } from '../../../shared/findings';
import { lineStarts, offsetAt } from './text-offsets';

const ORDER_IS_CALL_ORDER: ReadonlySet<ModelIR['style']> = new Set(['keras-sequential', 'keras-add', 'keras-functional', 'torch-sequential']);

export function swapCallsEdit(model: ModelIR, text: string, first: LayerIR, second: LayerIR): TextEdit[] | null {
  if (!ORDER_IS_CALL_ORDER.has(model.style)) return null;
  if ((first.unrolled?.count ?? 1) !== (second.unrolled?.count ?? 1)) return null;
  if (first.activation?.source === 'functional' || second.activation?.source === 'functional') return null;
  const starts = lineStarts(text);
  const a = [offsetAt(starts, first.range.start), offsetAt(starts, first.range.end)] as const;
  const b = [offsetAt(starts, second.range.start), offsetAt(starts, second.range.end)] as const;
  if (![...a, ...b].every(Number.isFinite) || a[1] > b[0]) return null;
  return [
    { file: model.file, range: first.range, newText: text.slice(b[0], b[1]) },
    { file: model.file, range: second.range, newText: text.slice(a[0], a[1]) },
  ];
}
