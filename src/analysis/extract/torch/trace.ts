/**
 * The record of one traced execution (a `forward`, or a Sequential's items in order): one node per
 * layer call in execution order, with the nodes that fed it. Producer -1 stands for the model input;
 * -2, -3, ... for the model's other inputs (forward's other arguments, noise drawn inside forward).
 */
import { cloneLayer, CONSTANT_INPUT, hasParameters, isRecurrent, NOISE_INPUT } from '../../../shared/layers';
import type { ReadMarks } from './flow';
import type { LayerIR, Range, ShapePassMark } from '../../../shared/ir';
import { sameRange } from '../../../shared/ranges';
import type { Slot } from './values';
import { LIMITS, TRACE_CUT } from '../../python/limits';
import { makeLayer } from '../builders';
import { isPlaced } from './imported';
import { relocateLayer } from '../relocate';

export const MODEL_INPUT = -1;

/** A model input after the first: a required argument of forward nobody passed, or noise forward draws (randn_like). */
export interface ExtraInput {
  /** The argument's name, or what drew the noise (`torch.randn_like`). */
  name: string;
  range: Range;
  /** Random numbers the code draws rather than data it is given: no gradient reaches them either way. */
  noise: boolean;
  /** A tensor the module makes itself (a coordinate grid built in __init__) that a layer reads: the same for every example. */
  constant?: boolean;
  /** Its per-example shape when the code says it (the sizes of a noise draw). */
  shape?: (number | null)[];
}

const extraMarker = (k: number) => -2 - k;
const extraIndex = (marker: number) => -2 - marker;

export interface TraceNode {
  slot: Slot;
  /** Producing node indices (MODEL_INPUT for the model input). */
  inputs: number[];
  /** Applied on a branch of a condition whose value is unknown: possibly absent. */
  conditional: boolean;
  /** A raw weight's product recorded outside any forward (the same code run again adds no node). */
  raw?: boolean;
  /** Applied under `with torch.no_grad():`: its weights get no gradient. */
  frozen?: boolean;
  /** The last shape change the trace passed through on the way here (its own inputs' or their producers'). */
  reshapedBy?: ShapePassMark;
  /** A torch recurrent module some layer reads every step of (not only the last): it returns sequences. */
  allSteps?: boolean;
}

/** How a node is added: see Trace.add. */
export interface AddOptions {
  raw?: boolean;
  repeats?: boolean;
  /** What the tensor values read say beyond their producers. */
  reads?: ReadMarks;
}

export class Trace {
  readonly nodes: TraceNode[] = [];
  readonly unsupported: { what: string; range: Range }[] = [];
  /** Whether layer applications past MAX_NODES were left out: the model read is a part of the model. */
  cut = false;
  /** The loss function forward computes on what it traced (`F.cross_entropy(logits, targets)`), resolved ("torch.nn.functional.cross_entropy"); null when none. */
  loss: string | null = null;
  /** The nodes whose outputs a loss computed in forward reads. */
  readonly lossReads = new Set<number>();
  /** The model's inputs after the first, in the order the code reads them. */
  readonly extraInputs: ExtraInput[] = [];
  /** Depth of branches of unknown conditions around the code being traced. */
  conditional = 0;
  /** While code of another file runs: the line of the model's file its layers and notes point at (see imported.ts). */
  relocation: Range | null = null;
  /** Hard cap so that pathological unrolling cannot blow up memory. */
  static readonly MAX_NODES = LIMITS.traceNodes;

  /**
   * Adds a node fed by `inputs`; returns its index, or null when the cap is reached. `raw`: tensor math
   * outside a forward, read once per place in the code (a training loop runs it every step). `repeats`:
   * the same producer may feed it more than once (torch.cat((x, x))).
   */
  add(slot: Slot, inputs: number[], { raw = false, repeats = false, reads }: AddOptions = {}): number | null {
    if (raw || this.nodes.some((n) => n.raw)) {
      const same = this.nodes.findIndex((node) => node.slot === slot || (node.slot.layer.range.start.line === slot.layer.range.start.line && node.slot.layer.range.start.character === slot.layer.range.start.character && node.slot.layer.kind === slot.layer.kind));
      if (same >= 0) return same;
    }
    if (this.nodes.length >= Trace.MAX_NODES) {
      // Said once, where the first application past the limit is (not at every later one).
      if (!this.cut) this.note(TRACE_CUT, slot.layer.range);
      this.cut = true;
      return null;
    }
    if (this.relocation && !isPlaced(slot)) relocateLayer(slot.layer, this.relocation);
    // A shape passed through uncomputed stays uncertain in everything computed from it.
    const mark = reads?.reshapedBy ?? inputs.reduce<ShapePassMark | undefined>((found, k) => this.nodes[k]?.reshapedBy ?? found, undefined);
    for (const k of reads?.steps ?? []) {
      const reader = this.nodes[k];
      if (reader) reader.allSteps = true;
    }
    this.nodes.push({ slot, inputs: repeats ? [...inputs] : [...new Set(inputs)], conditional: this.conditional > 0, raw: raw || this.nodes.some((n) => n.raw), ...(mark ? { reshapedBy: mark } : {}) });
    if (slot.unsupported) this.note(slot.unsupported, slot.layer.range);
    return this.nodes.length - 1;
  }

  /** A new model input after the first; returns its producer marker. */
  addInput(input: ExtraInput): number {
    this.extraInputs.push(input);
    return extraMarker(this.extraInputs.length - 1);
  }

  /** Whether a producer is noise drawn in forward. */
  isNoise(marker: number): boolean {
    return marker < MODEL_INPUT && this.extraInputs[extraIndex(marker)]?.noise === true;
  }

  /** The connected parts of the recorded flow (independent computations), each as a trace of its own. */
  components(): Trace[] {
    const parent = this.nodes.map((_, i) => i);
    const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
    this.nodes.forEach((node, i) => { node.inputs.forEach((k) => k >= 0 && (parent[find(k)] = find(i))); });
    const groups = new Map<number, number[]>();
    this.nodes.forEach((_, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), i]));
    return [...groups.values()].map((indices) => {
      const part = new Trace();
      const index = new Map(indices.map((k, j) => [k, j]));
      for (const k of indices) {
        const node = this.nodes[k]!;
        part.nodes.push({ ...node, inputs: node.inputs.flatMap((i) => (i < 0 ? [i] : (index.get(i) ?? []))) });
      }
      part.unsupported.push(...this.unsupported);
      part.cut = this.cut;
      return part;
    });
  }

  note(what: string, at: Range): void {
    const range = this.relocation ?? at;
    if (!this.unsupported.some((u) => u.what === what && sameRange(u.range, range))) this.unsupported.push({ what, range });
  }

  /**
   * The IR layers (copies of the slots, so a layer called twice appears twice, the later calls naming
   * the first in `sharesWeightsWith`) and whether the data
   * flow is a graph rather than a chain in execution order. When the model input feeds a layer other
   * than the first, or feeds one beside another layer (a skip connection from the input), the input
   * becomes a layer of its own (`input`, located at `inputRange`) so that no edge is lost.
   * With `outputs` (the nodes that produced the returned value), work done on a branch of an unknown
   * condition that never reaches the output (a loss computed `if targets is not None`), and what only a
   * loss computed in forward reads (`logits.view(-1, V)`, `targets.view(-1)`), are left out.
   */
  layers(inputRange: Range, outputs: number[] | null = null): { layers: LayerIR[]; isGraph: boolean } {
    const all = this.nodes;
    let nodes = all;
    /** The returned nodes, by their position in `nodes`. */
    let returned = new Set(outputs ?? []);
    if (outputs && (all.some((n) => n.conditional) || this.lossReads.size > 0)) {
      const reaches = new Set<number>();
      const stack = outputs.filter((k) => k >= 0);
      for (let k = stack.pop(); k !== undefined; k = stack.pop()) {
        if (reaches.has(k)) continue;
        reaches.add(k);
        for (const i of all[k]?.inputs ?? []) if (i >= 0) stack.push(i);
      }
      const forLoss = new Set<number>();
      const losses = [...this.lossReads].filter((k) => !reaches.has(k));
      for (let k = losses.pop(); k !== undefined; k = losses.pop()) {
        if (forLoss.has(k)) continue;
        forLoss.add(k);
        for (const i of all[k]?.inputs ?? []) if (i >= 0 && !reaches.has(i)) losses.push(i);
      }
      const index = new Map<number, number>();
      nodes = [];
      all.forEach((node, k) => {
        if ((node.conditional || forLoss.has(k)) && !reaches.has(k)) return;
        index.set(k, nodes.length);
        nodes.push(node);
      });
      nodes = nodes.map((node) => ({ ...node, inputs: node.inputs.flatMap((i) => (i < 0 ? [i] : (index.get(i) ?? []))) }));
      returned = new Set(outputs.flatMap((k) => index.get(k) ?? []));
    }
    const read = new Set(nodes.flatMap((node) => node.inputs));
    // Only when the returned value holds a layer nothing reads can the others be told to be dropped.
    const returnsEnd = nodes.some((_, i) => returned.has(i) && !read.has(i));
    // Other inputs that something still reads, each placed just before its first reader (so that the
    // layers beside it in that reader are known first: its shape can follow from theirs).
    // An input only unknown layers read (an RNN state passed to a module the reader cannot see) adds nothing they do not already hide.
    const extras = [...new Set(nodes.flatMap((node) => (node.slot.layer.kind === 'unknown' ? [] : node.inputs.filter((k) => k < MODEL_INPUT))))];
    nodes = nodes.map((node) => (node.slot.layer.kind === 'unknown' ? { ...node, inputs: node.inputs.filter((k) => k >= MODEL_INPUT || extras.includes(k)) } : node));
    const firstReader = new Map(extras.map((marker) => [marker, nodes.findIndex((node) => node.inputs.includes(marker))]));
    const explicitInput = extras.length > 0 || nodes.some((node, i) => node.inputs.includes(MODEL_INPUT) && (i > 0 || node.inputs.length > 1));
    // Positions in the output list: the model input first, then each node after the extra inputs placed before it.
    const position = new Map<number, number>();
    let next = explicitInput ? 1 : 0;
    nodes.forEach((_, i) => {
      for (const marker of extras) if (firstReader.get(marker) === i) position.set(marker, next++);
      position.set(i, next++);
    });
    const id = (k: number) => (k === MODEL_INPUT ? 'L0' : `L${position.get(k) ?? 0}`);
    let isGraph = explicitInput;
    const layers: LayerIR[] = [];
    // The first application of each module object: a later call of the same module reuses its parameters.
    const firstApplication = new Map<Slot, number>();
    if (explicitInput) layers.push(makeLayer({ kind: 'input', className: 'input', range: inputRange }));
    nodes.forEach((node, i) => {
      for (const marker of extras) {
        const extra = this.extraInputs[extraIndex(marker)];
        if (firstReader.get(marker) !== i || !extra) continue;
        layers.push(makeLayer({ kind: 'input', className: extra.noise ? NOISE_INPUT : extra.constant ? CONSTANT_INPUT : 'input', name: extra.name, range: extra.range, ...(extra.shape ? { shape: extra.shape } : {}) }));
      }
      const inputs = explicitInput ? node.inputs : node.inputs.filter((k) => k !== MODEL_INPUT);
      const chained = i === 0 ? inputs.length === 0 || (explicitInput && inputs.length === 1 && inputs[0] === MODEL_INPUT) : inputs.length === 1 && inputs[0] === i - 1;
      const kind = node.slot.layer.kind;
      if (!chained || kind === 'add' || kind === 'concat' || kind === 'multiply') isGraph = true;
      const layer = cloneLayer(node.slot.layer);
      if (node.conditional) layer.conditional = true;
      if (node.frozen) {
        layer.frozen = true;
        layer.noGrad = true;
      }
      const first = firstApplication.get(node.slot);
      if (first === undefined) firstApplication.set(node.slot, i);
      else if (hasParameters(layer)) layer.sharesWeightsWith = id(first);
      if (node.reshapedBy) layer.shapePassedThrough = node.reshapedBy;
      if (returned.has(i) && read.has(i)) layer.returnedToo = true;
      if (returnsEnd && !returned.has(i) && !read.has(i)) layer.unreturned = true;
      if (node.allSteps && isRecurrent(layer)) layer.recurrent.returnSequences = true;
      layer.inputs = inputs.map(id);
      layers.push(layer);
    });
    freezeCutOff(layers);
    return { layers, isGraph };
  }
}

/**
 * Layers upstream of a `torch.no_grad()` block whose every path to the output passes through it get no
 * gradient (the block's output has no grad_fn): frozen, as autograd leaves their .grad None. A layer
 * object applied elsewhere on a path that does reach the output still trains. Ids are still the
 * positions (`L${i}`): makeModel assigns the same ones.
 */
function freezeCutOff(layers: LayerIR[]): void {
  if (!layers.some((l) => l.noGrad)) return;
  const position = (id: string) => Number(id.slice(1));
  const read = new Set(layers.flatMap((l) => l.inputs.map(position)));
  // Backward from the outputs (layers nothing reads), never through a no_grad layer.
  const reached = new Set<number>();
  const stack = layers.flatMap((l, i) => (!read.has(i) && !l.noGrad ? [i] : []));
  for (let i = stack.pop(); i !== undefined; i = stack.pop()) {
    if (reached.has(i)) continue;
    reached.add(i);
    for (const k of layers[i]!.inputs.map(position)) if (layers[k] && !layers[k].noGrad) stack.push(k);
  }
  const group = (i: number) => layers[i]!.sharesWeightsWith ?? `L${i}`;
  const gradient = new Set([...reached].map(group));
  const trained = new Set([...reached].filter((i) => !layers[i]!.frozen).map(group));
  layers.forEach((layer, i) => {
    if (!gradient.has(group(i))) {
      if (!layer.noGrad && hasParameters(layer)) layer.frozen = true;
    } else if (layer.noGrad && trained.has(group(i))) {
      // A module applied under no_grad and again outside it: the other application trains its weights
      // (its no_grad application still stops the gradient at its output).
      layer.frozen = false;
    }
  });
}
