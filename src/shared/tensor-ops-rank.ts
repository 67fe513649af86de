/**
 * What a torch model's tensor operations ask of the rank of an input they read (src/analysis reads it for
 * the input it guesses, the probe for the other inputs of forward).
 */
import type { LayerIR, LayerKind, ModelIR } from './ir';

/** Layers that keep the rank of what they read: a tensor operation after them sees the input's rank. */
const RANK_KEEPING: ReadonlySet<LayerKind> = new Set(['dense', 'activation', 'dropout', 'alpha-dropout', 'layernorm', 'rescaling', 'add', 'multiply', 'position-embedding', 'tensor-op']);

/**
 * The rank per example that torch tensor operations reading the model input (through layers that keep
 * its rank) need: 2 for a transpose of the last two axes, a product of matrices or features split into
 * attention heads, a permutation's own length; null when none asks. `input`: another model input (the
 * id of its 'input' layer) than the first.
 */
export function tensorOpsRank(model: ModelIR, input?: string): number | null {
  const reached = new Set(input !== undefined ? [input] : model.layers.filter((l) => l.kind === 'input' && l.inputs.length === 0).slice(0, 1).map((l) => l.id));
  let rank: number | null = null;
  for (const [i, layer] of model.layers.entries()) {
    const fed = (layer.inputs.length === 0 && i === 0 && layer.kind !== 'input') || layer.inputs.some((id) => reached.has(id));
    if (fed && splitsHeads(model, layer)) rank = Math.max(rank ?? 0, 2);
    if (!fed || !RANK_KEEPING.has(layer.kind) || (layer.kind === 'tensor-op' && (layer.op?.op === 'unsqueeze' || layer.op?.op === 'squeeze' || layer.op?.op === 'flatten'))) continue;
    reached.add(layer.id);
    if (layer.kind !== 'tensor-op' || !layer.op) continue;
    const op = layer.op;
    // An einsum asks of the operands the input reaches as many axes as their terms have letters, the batch's less.
    const terms = op.op === 'matmul' && op.equation !== null ? op.equation.replace(/\s+/g, '').split('->')[0]?.split(',') : undefined;
    const einsum = terms?.filter((_, k) => reached.has(layer.inputs[k] ?? '')) ?? null;
    const needs = op.op === 'permute' ? op.order.length - 1 : op.op === 'transpose' ? Math.max(...op.axes.map((a) => (a < 0 ? -a : a))) : op.op === 'split' ? Math.abs(op.axis) : einsum && einsum.length > 0 ? Math.max(...einsum.map((term) => term.length - 1)) : op.op === 'matmul' ? 2 : null;
    if (needs !== null) rank = Math.max(rank ?? 0, needs);
  }
  return rank;
}

/** Axes moved or multiplied right after a view: what attention does with the heads it split. */
const AXES_OPS: ReadonlySet<string> = new Set(['transpose', 'permute', 'matmul']);

/**
 * `self.q(x).view(B, -1, heads, d_k).transpose(1, 2)`: a view into the batch, a second axis the code
 * does not fix (-1, a size it computes, or the input's own second axis) and two or more sizes more,
 * whose axes are then moved or multiplied: attention splitting its features into heads, which keeps a
 * sequence axis (a model read on one step gets one position, and a softmax over one key is constant).
 */
function splitsHeads(model: ModelIR, layer: LayerIR): boolean {
  if (layer.kind !== 'reshape' || layer.reshape.op !== 'view' || !layer.reshape.dims || layer.reshape.dims.length < 4) return false;
  const second = layer.reshape.dims[1];
  const open = second === -1 || second === null || (typeof second === 'object' && second.of.length === 1 && second.of[0] === 1);
  return open && model.layers.some((l) => l.inputs.includes(layer.id) && l.kind === 'tensor-op' && l.op !== null && AXES_OPS.has(l.op.op));
}
