/**
 * The record of one traced execution (a `forward`, or a Sequential's items in order): one node per
 * layer call in execution order, with the nodes that fed it. Producer -1 stands for the model input.
 */
import type { LayerIR, Range } from '../../../shared/ir';
import type { Slot } from './values';

export const MODEL_INPUT = -1;

export interface TraceNode {
  slot: Slot;
  /** Producing node indices (MODEL_INPUT for the model input). */
  inputs: number[];
}

export class Trace {
  readonly nodes: TraceNode[] = [];
  readonly unsupported: { what: string; range: Range }[] = [];
  /** Hard cap so that pathological unrolling cannot blow up memory. */
  static readonly MAX_NODES = 4000;

  /** Adds a node fed by `inputs`; returns its index, or null when the cap is reached. */
  add(slot: Slot, inputs: number[]): number | null {
    if (this.nodes.length >= Trace.MAX_NODES) return null;
    this.nodes.push({ slot, inputs: [...new Set(inputs)] });
    if (slot.unsupported) this.note(slot.unsupported, slot.layer.range);
    return this.nodes.length - 1;
  }

  note(what: string, range: Range): void {
    if (!this.unsupported.some((u) => u.what === what && sameRange(u.range, range))) this.unsupported.push({ what, range });
  }

  /**
   * The IR layers (copies of the slots, so a layer called twice appears twice) and whether the data
   * flow is a graph rather than a chain in execution order.
   */
  layers(): { layers: LayerIR[]; isGraph: boolean } {
    let isGraph = false;
    const layers = this.nodes.map((node, i) => {
      const inputs = node.inputs.filter((k) => k !== MODEL_INPUT);
      const chained = i === 0 ? inputs.length === 0 : inputs.length === 1 && inputs[0] === i - 1;
      const kind = node.slot.layer.kind;
      if (!chained || kind === 'add' || kind === 'concat' || kind === 'multiply') isGraph = true;
      return { ...node.slot.layer, params: { ...node.slot.layer.params }, inputs: inputs.map((k) => `L${k}`) };
    });
    return { layers, isGraph };
  }
}

function sameRange(a: Range, b: Range): boolean {
  return a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;
}
