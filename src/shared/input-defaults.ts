/**
 * The documented defaults for an input the code does not describe (docs/probe.md, "Input shape"):
 * an image side for convolutional first layers and a sequence length for token / recurrent inputs.
 * The analyzer's input-shape guess and the probe both use these.
 */
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
} as const;
