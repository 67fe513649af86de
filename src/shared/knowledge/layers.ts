/** Normalization and dropout layers: what they do to the signal, and where they belong. */
import type { LayerKind } from '../ir';
import type { ReferenceKey } from './references';

export interface LayerInfo {
  kind: LayerKind;
  title: string;
  /** What the layer computes. */
  computes: string;
  /** Its effect on gradient flow and on the importance of initialization. */
  effect: string;
  /** Where it usually goes. */
  placement: string;
  /** Where Keras and PyTorch differ. */
  frameworks: string;
  references: ReferenceKey[];
}

const LAYERS: Partial<Record<LayerKind, LayerInfo>> = {
  batchnorm: {
    kind: 'batchnorm',
    title: 'Batch normalization',
    computes: 'y = γ · (x − μ_B) / sqrt(σ²_B + ε) + β per feature/channel, with μ_B, σ²_B from the mini-batch in training and running averages at inference; γ starts at 1, β at 0.',
    effect: 'Re-standardizes every pre-activation, so the scale of the preceding weights no longer compounds through depth: training tolerates higher learning rates and is far less sensitive to initialization. A bias in the preceding layer is redundant (β replaces it).',
    placement: 'Ioffe & Szegedy put it between the linear layer and its nonlinearity (Dense/Conv without bias → BN → activation); after the activation also works in practice. Avoid Dropout right before it (the variance it sees at training and at inference differ) and BatchNorm in SELU networks.',
    frameworks: 'Momentum has opposite conventions: Keras momentum=0.99 means running = 0.99·running + 0.01·batch; PyTorch momentum=0.1 means running = 0.9·running + 0.1·batch. Default ε: Keras 1e-3, PyTorch 1e-5.',
    references: ['ioffe2015'],
  },
  layernorm: {
    kind: 'layernorm',
    title: 'Layer normalization',
    computes: 'y = γ · (x − μ) / sqrt(σ² + ε) + β with μ, σ² over the features of each example (no batch statistics, same at training and inference).',
    effect: 'Like batch normalization it removes the dependence of the signal scale on the weights, independently of the batch size; the standard choice for recurrent networks and Transformers.',
    placement: 'Before or after each sub-block (pre-LN / post-LN in Transformers); between the linear layer and its nonlinearity in MLPs.',
    frameworks: 'Default ε: Keras 1e-3, PyTorch 1e-5. PyTorch needs normalized_shape; Keras normalizes the last axis.',
    references: ['ba2016'],
  },
  groupnorm: {
    kind: 'groupnorm',
    title: 'Group normalization',
    computes: 'Standardizes each example over groups of channels, then scales and shifts per channel.',
    effect: 'Batch-size independent normalization for convolutional networks; removes the weight scale like batch normalization.',
    placement: 'Where BatchNorm would go in a CNN trained with small batches.',
    frameworks: 'Keras GroupNormalization(groups=…); PyTorch nn.GroupNorm(num_groups, num_channels).',
    references: ['wu2018'],
  },
  dropout: {
    kind: 'dropout',
    title: 'Dropout',
    computes: 'In training, zeroes each unit with probability p and scales the survivors by 1/(1 − p) ("inverted dropout"); at inference it is the identity.',
    effect: 'Regularizes by preventing co-adaptation. It keeps the mean but changes the variance the next layer sees between training and inference, which is why it does not mix well with a following BatchNorm or with SELU (use AlphaDropout there).',
    placement: 'After the activation of large hidden layers, and after the last normalization layer rather than before one.',
    frameworks: 'Keras Dropout(rate) and PyTorch nn.Dropout(p) both give the probability of dropping a unit.',
    references: ['srivastava2014'],
  },
  'alpha-dropout': {
    kind: 'alpha-dropout',
    title: 'Alpha dropout',
    computes: "Sets dropped units to SELU's negative saturation value −λα ≈ −1.758 instead of 0, then applies an affine correction so mean and variance are unchanged.",
    effect: 'Keeps the zero-mean, unit-variance fixed point of a self-normalizing (SELU) network intact, which plain Dropout destroys.',
    placement: 'In SELU networks, in place of Dropout; rates around 0.05–0.1 are typical.',
    frameworks: 'Keras AlphaDropout(rate); PyTorch nn.AlphaDropout(p).',
    references: ['klambauer2017'],
  },
};

/** Facts about a normalization or dropout layer kind; null for other kinds. */
export function layerInfo(kind: LayerKind): LayerInfo | null {
  return LAYERS[kind] ?? null;
}
