/**
 * The documented defaults for an input the code does not describe (docs/probe.md, "Input shape"):
 * an image side for convolutional first layers and a sequence length for token / recurrent inputs.
 * The analyzer's input-shape guess and the probe both use these.
 */
import type { LayerIR } from './ir';
import { isConv } from './layers';

export const DEFAULT_IMAGE_SIDE = 32;
export const DEFAULT_SEQUENCE_LENGTH = 20;

/**
 * Representative sizes for a layer whose size the code leaves unknown (a constructor argument no call
 * site fixes): the probe builds the layer with these and names them in a note. Gradient-flow profiles
 * depend on depth, activations and initialization far more than on these widths.
 */
export const REPRESENTATIVE_SIZES = {
  /** Units of a hidden Dense / Linear, filters of a Conv, hidden size of a recurrent layer. */
  hidden: 128,
  /** Units of the last layer (a classifier head). */
  output: 10,
  /** Embedding table rows. */
  vocabulary: 10_000,
  /** Embedding dimension. */
  embedding: 128,
  /** Features per step of a sequence input (recurrent, Conv1D, attention) whose data the code does not describe. */
  sequenceFeatures: 32,
  /** Kernel side of a convolution whose kernel_size is a constructor argument. */
  kernel: 3,
  /** Stacked cells of a torch recurrent module (`num_layers=`): language models usually stack two. */
  stackedLayers: 2,
} as const;

/** Layer kinds whose size (units, filters, hidden size, embedding dimension) the probe must know to build them. */
const SIZED_KINDS: ReadonlySet<string> = new Set(['dense', 'conv1d', 'conv2d', 'conv3d', 'conv-transpose', 'lstm', 'gru', 'simple-rnn', 'embedding']);

/**
 * The units a sized layer is built with when the code leaves them unknown: the next layer's declared
 * input size when it has one (nn.LSTM(emb_dim, ...) after the Embedding), else a representative size.
 * Null when the layer is not sized or its units are known. The probe builds with it; the prediction
 * propagates with it.
 */
export function representativeUnits(layer: LayerIR, isLast: boolean, next: LayerIR | undefined): { units: number; fromNext: boolean } | null {
  if (!SIZED_KINDS.has(layer.kind) || layer.units !== null) return null;
  if (isConv(layer) && layer.conv.variant === 'depthwise') return null; // a depthwise output follows its input
  const fromNext = next && next.inputs.length <= 1 && next.kind !== 'conv2d' ? next.inFeatures : null;
  if (fromNext !== null) return { units: fromNext, fromNext: true };
  const units = layer.kind === 'embedding' ? REPRESENTATIVE_SIZES.embedding : isLast && layer.kind === 'dense' ? REPRESENTATIVE_SIZES.output : REPRESENTATIVE_SIZES.hidden;
  return { units, fromNext: false };
}
