/**
 * Shared by the GL2xx rules: kernel initializers grouped by where they are written. One
 * `nn.init.xavier_uniform_(m.weight)` inside a `model.apply` function, or one Dense made in a loop,
 * initializes several layers; the finding belongs to the written place, with the layers as related.
 */
import { rangeContains } from '../../../shared/ranges';
import type { InitializerIR, LayerIR, LayerKind, ModelIR, Range } from '../../../shared/ir';
import type { RelatedInfo, TextEdit } from '../../../shared/findings';
import { rangeKey } from '../helpers/call-key';
import type { LayerGraph } from '../helpers/layer-graph';
import { isNormalizationLayer } from '../helpers/layer-kinds';
import { sourceSnippet } from '../../../shared/source-snippet';

export interface InitSite {
  init: InitializerIR;
  /** Every layer this written initializer (or this default on this call) sets, in model order. */
  layers: LayerIR[];
  /** Where the finding goes: the written initializer, or the layer call for a default. */
  range: Range;
}

/**
 * Groups (layer, kernel initializer) pairs by the initializer's written range, or the layer call for
 * defaults. A later application of a layer object (sharesWeightsWith) is the same kernel, initialized
 * once: it is not another layer of the site.
 */
export function groupByInitSite(layers: readonly LayerIR[]): InitSite[] {
  const sites = new Map<string, InitSite>();
  for (const layer of layers) {
    const init = layer.kernelInit;
    if (!init || layer.sharesWeightsWith !== null) continue;
    const range = init.range ?? layer.range;
    const key = rangeKey(range);
    const site = sites.get(key);
    if (site) site.layers.push(layer);
    else sites.set(key, { init, layers: [layer], range });
  }
  return [...sites.values()];
}

/** How to name a layer in a message: `'fc1'`, or `nn.Linear '0'` for the numbered items of a Sequential. */
export function layerLabel(layer: LayerIR): string {
  return /^\d+$/.test(layer.name) ? `${layer.className} '${layer.name}'` : `'${layer.name}'`;
}

/**
 * What to tell the user to write: the fix's replacement when it is a whole PyTorch call on the real
 * tensor (`nn.init.kaiming_normal_(self.fc1.weight, ...)`), else the recommended spelling.
 */
export function adviceText(init: InitializerIR, recommended: string, edit: TextEdit | null): string {
  return init.framework === 'torch' && edit && /^[\w.]+\(/.test(edit.newText) ? edit.newText : recommended;
}

/** How to name an initializer in a message: as written, or as the framework default it is. */
export function initLabel(init: InitializerIR): string {
  if (init.explicit) return sourceSnippet(init.spelling);
  if (init.framework === 'torch' && init.name === 'kaiming_uniform') return "PyTorch's default kaiming_uniform_(a=sqrt(5))";
  return `the ${init.framework === 'keras' ? 'Keras' : 'PyTorch'} default ${init.name}`;
}


/** Related ranges: the layers a shared initializer applies to (the site itself excluded). */
export function relatedLayers(model: ModelIR, site: InitSite, note: (layer: LayerIR) => string): RelatedInfo[] {
  const seen = new Set<string>();
  const related: RelatedInfo[] = [];
  for (const layer of site.layers) {
    const key = rangeKey(layer.range);
    if (seen.has(key) || rangeContains(layer.range, site.range)) continue;
    seen.add(key);
    related.push({ location: { file: model.file, range: layer.range }, message: note(layer) });
  }
  return related;
}

/**
 * Labels every layer with its normalization-free segment (see `normalizationFreeSegment`) in one
 * pass: segment number by layer id; normalization layers get none.
 */
export function normalizationFreeSegments(graph: LayerGraph): Map<string, number> {
  const segmentOf = new Map<string, number>();
  let next = 0;
  for (const start of graph.layers) {
    if (segmentOf.has(start.id) || isNormalizationLayer(start)) continue;
    const id = next++;
    for (const layer of normalizationFreeSegment(graph, start)) segmentOf.set(layer.id, id);
  }
  return segmentOf;
}

/**
 * The layers of `layer`'s normalization-free segment: everything reachable from it forwards and
 * backwards without crossing a BatchNorm/LayerNorm/GroupNorm. A weight scale that is too small or
 * too large compounds only within such a segment; the next normalization layer resets it.
 */
export function normalizationFreeSegment(graph: LayerGraph, layer: LayerIR): LayerIR[] {
  const seen = new Set<string>([layer.id]);
  const out: LayerIR[] = [layer];
  const stack = [layer];
  for (let current = stack.pop(); current !== undefined; current = stack.pop()) {
    for (const next of [...graph.successors(current), ...graph.predecessors(current)]) {
      if (seen.has(next.id) || isNormalizationLayer(next)) continue;
      seen.add(next.id);
      out.push(next);
      stack.push(next);
    }
  }
  return out;
}

/**
 * The longest run of `counted` layers of a normalization-free `segment` that a signal crosses one
 * after another, in order: how far a per-layer weight scale compounds. A sum or a concatenation
 * passes on its least-shrunk operand, so the run through it continues from its shortest input: the
 * layers of successive residual branches do not compound across the skip, nor do parallel branches
 * (Inception) add to each other's depth.
 */
export function deepestChain(graph: LayerGraph, segment: readonly LayerIR[], counted: (l: LayerIR) => boolean): LayerIR[] {
  const members = new Set(segment);
  const depth = new Map<LayerIR, number>();
  const parent = new Map<LayerIR, LayerIR>();
  let deepest: { layer: LayerIR; depth: number } | null = null;
  for (const layer of graph.layers) {
    if (!members.has(layer)) continue;
    const passesLeast = layer.kind === 'add' || layer.kind === 'concat';
    let from: { layer: LayerIR; depth: number } | null = null;
    for (const input of graph.predecessors(layer)) {
      const d = depth.get(input);
      if (d !== undefined && (from === null || (passesLeast ? d < from.depth : d > from.depth))) from = { layer: input, depth: d };
    }
    if (from) parent.set(layer, from.layer);
    const d = (from?.depth ?? 0) + (counted(layer) ? 1 : 0);
    depth.set(layer, d);
    if (deepest === null || d > deepest.depth) deepest = { layer, depth: d };
  }
  const chain: LayerIR[] = [];
  for (let at = deepest?.layer; at !== undefined; at = parent.get(at)) if (counted(at)) chain.push(at);
  return chain.reverse();
}

/** Depth-first search from `from` along `next`, entering only layers `through` accepts: true once `found` holds. */
export function reaches(from: LayerIR, next: (l: LayerIR) => LayerIR[], found: (l: LayerIR) => boolean, through: (l: LayerIR) => boolean = () => true): boolean {
  const seen = new Set<string>();
  const stack = [...next(from)];
  for (let layer = stack.pop(); layer !== undefined; layer = stack.pop()) {
    if (seen.has(layer.id)) continue;
    seen.add(layer.id);
    if (found(layer)) return true;
    if (through(layer)) stack.push(...next(layer));
  }
  return false;
}

const PASS_THROUGH: ReadonlySet<LayerKind> = new Set(['dropout', 'alpha-dropout', 'batchnorm', 'layernorm', 'groupnorm', 'activation', 'flatten', 'reshape', 'global-pool', 'avgpool', 'maxpool']);

/**
 * Whether `layer`'s output goes, through dropout/normalization/activation/reshaping layers, straight
 * into a merge of one of `kinds`: the last layer of a residual branch (add) or a gate (multiply).
 */
export function feedsMerge(graph: LayerGraph, layer: LayerIR, kinds: readonly LayerKind[]): boolean {
  return reaches(layer, (l) => graph.successors(l), (l) => kinds.includes(l.kind), (l) => PASS_THROUGH.has(l.kind));
}
