/**
 * The documented defaults for an input the code does not describe (docs/probe.md, "Input shape"):
 * an image side for convolutional first layers and a sequence length for token / recurrent inputs.
 * The analyzer's input-shape guess and the probe both use these.
 */
export const DEFAULT_IMAGE_SIDE = 32;
export const DEFAULT_SEQUENCE_LENGTH = 20;
