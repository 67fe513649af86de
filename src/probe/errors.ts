/** The one error type the probe engine throws on purpose; anything else is reported as a crash. */
import type { LayerIR } from '../shared/ir';
import type { ProbeError, ProbeErrorKind } from '../shared/probe';

export class ProbeFailure extends Error {
  constructor(
    readonly kind: ProbeErrorKind,
    message: string,
    readonly layer: { name: string; line: number } | null = null,
    readonly shrinkable?: boolean,
  ) {
    super(message);
  }

  toProbeError(): ProbeError {
    return { kind: this.kind, message: this.message, layer: this.layer, ...(this.shrinkable === undefined ? {} : { shrinkable: this.shrinkable }) };
  }
}

/** 1-based line of a layer's constructor call. */
export function layerLine(layer: LayerIR): number {
  return layer.range.start.line + 1;
}

/** "Dense 'fc1' (line 12)": how every message names a layer. */
export function describeLayer(layer: LayerIR): string {
  return `${layer.className} '${layer.name}' (line ${layerLine(layer)})`;
}

export function layerFailure(kind: ProbeErrorKind, layer: LayerIR, message: string): ProbeFailure {
  return new ProbeFailure(kind, `${describeLayer(layer)}: ${message}${kind === 'shape' ? passedThroughClause(layer) : ''}`, { name: layer.name, line: layerLine(layer) });
}

/**
 * A shape that does not fit after an operation whose change of shape the probe takes through unchanged
 * (`x.unsqueeze(1)`, `torch.einsum`) is likely that operation's doing, not the code's: say which.
 */
function passedThroughClause(layer: LayerIR): string {
  const mark = layer.shapePassedThrough;
  if (!mark) return '';
  return ` (after ${mark.spelling} on line ${mark.range.start.line + 1}, whose change of shape the probe does not compute)`;
}

/** Any thrown value as a ProbeError (unexpected exceptions become 'crash'). */
export function toProbeError(error: unknown): ProbeError {
  if (error instanceof ProbeFailure) return error.toProbeError();
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'crash', message: `the probe failed unexpectedly: ${message}`, layer: null };
}
