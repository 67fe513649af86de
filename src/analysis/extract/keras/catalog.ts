/**
 * The Keras layer classes the extractor understands: their IR kind, their positional parameters
 * (Keras 2 and 3 agree on these orders) and which weights they carry. Aliases (MaxPool2D,
 * Convolution2D, CuDNNLSTM, ...) point at the same entries.
 */
import type { ActivationName, LayerKind } from '../../../shared/ir';

/** Which weights a layer has, which decides its initializer arguments and fans. */
export type WeightKind = 'dense' | 'conv' | 'conv-transpose' | 'depthwise' | 'separable' | 'embedding' | 'recurrent' | 'none';

export interface LayerSpec {
  kind: LayerKind;
  /** Keras positional parameter names, in order. */
  positional: string[];
  weights: WeightKind;
  /** Spatial dimensions of convolutions and pooling. */
  dims?: number;
  /** The activation a layer applies when `activation=` is not written (Dense/Conv: linear, RNNs: tanh). */
  defaultActivation?: ActivationName;
  /** Activation layers (ReLU(), Softmax(), ...): the activation they are. */
  activation?: ActivationName;
  /** Gate count of recurrent kernels: the kernel is (input_dim, gates * units). */
  gates?: number;
  /** Layers without weights that leave the values unchanged at inference (augmentation, masking). */
  identity?: boolean;
  /** Wrappers whose first argument is the wrapped layer. */
  wrapper?: 'bidirectional' | 'time-distributed';
  /** Merge layers: how the inputs combine. */
  merge?: string;
}

const CONV = ['filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate', 'groups', 'activation', 'use_bias', 'kernel_initializer', 'bias_initializer'];
const CONV_T = ['filters', 'kernel_size', 'strides', 'padding', 'output_padding', 'data_format', 'dilation_rate', 'activation', 'use_bias', 'kernel_initializer', 'bias_initializer'];
const SEPARABLE = ['filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate', 'depth_multiplier', 'activation', 'use_bias', 'depthwise_initializer', 'pointwise_initializer', 'bias_initializer'];
const DEPTHWISE = ['kernel_size', 'strides', 'padding', 'depth_multiplier', 'data_format', 'dilation_rate', 'activation', 'use_bias', 'depthwise_initializer', 'bias_initializer'];
const POOL = ['pool_size', 'strides', 'padding', 'data_format'];
const RNN = ['units', 'activation', 'recurrent_activation', 'use_bias', 'kernel_initializer', 'recurrent_initializer', 'bias_initializer'];
const SIMPLE_RNN = ['units', 'activation', 'use_bias', 'kernel_initializer', 'recurrent_initializer', 'bias_initializer'];

const entries: [string[], LayerSpec][] = [
  [['InputLayer'], { kind: 'input', positional: ['input_shape', 'batch_size'], weights: 'none' }],
  // Keras 1 TimeDistributedDense is a Dense applied at every step, as a Keras 2 Dense on a sequence is.
  [['Dense', 'TimeDistributedDense'], { kind: 'dense', positional: ['units', 'activation', 'use_bias', 'kernel_initializer', 'bias_initializer'], weights: 'dense', defaultActivation: 'linear' }],
  [['Conv1D', 'Convolution1D'], { kind: 'conv1d', positional: CONV, weights: 'conv', dims: 1, defaultActivation: 'linear' }],
  [['Conv2D', 'Convolution2D'], { kind: 'conv2d', positional: CONV, weights: 'conv', dims: 2, defaultActivation: 'linear' }],
  [['Conv3D', 'Convolution3D'], { kind: 'conv3d', positional: CONV, weights: 'conv', dims: 3, defaultActivation: 'linear' }],
  [['Conv1DTranspose', 'Convolution1DTranspose'], { kind: 'conv-transpose', positional: CONV_T, weights: 'conv-transpose', dims: 1, defaultActivation: 'linear' }],
  [['Conv2DTranspose', 'Convolution2DTranspose', 'Deconvolution2D'], { kind: 'conv-transpose', positional: CONV_T, weights: 'conv-transpose', dims: 2, defaultActivation: 'linear' }],
  [['Conv3DTranspose', 'Convolution3DTranspose', 'Deconvolution3D'], { kind: 'conv-transpose', positional: CONV_T, weights: 'conv-transpose', dims: 3, defaultActivation: 'linear' }],
  [['SeparableConv1D', 'SeparableConvolution1D'], { kind: 'conv1d', positional: SEPARABLE, weights: 'separable', dims: 1, defaultActivation: 'linear' }],
  [['SeparableConv2D', 'SeparableConvolution2D'], { kind: 'conv2d', positional: SEPARABLE, weights: 'separable', dims: 2, defaultActivation: 'linear' }],
  [['DepthwiseConv1D'], { kind: 'conv1d', positional: DEPTHWISE, weights: 'depthwise', dims: 1, defaultActivation: 'linear' }],
  [['DepthwiseConv2D'], { kind: 'conv2d', positional: DEPTHWISE, weights: 'depthwise', dims: 2, defaultActivation: 'linear' }],
  [['MaxPooling1D', 'MaxPool1D'], { kind: 'maxpool', positional: POOL, weights: 'none', dims: 1 }],
  [['MaxPooling2D', 'MaxPool2D'], { kind: 'maxpool', positional: POOL, weights: 'none', dims: 2 }],
  [['MaxPooling3D', 'MaxPool3D'], { kind: 'maxpool', positional: POOL, weights: 'none', dims: 3 }],
  [['AveragePooling1D', 'AvgPool1D'], { kind: 'avgpool', positional: POOL, weights: 'none', dims: 1 }],
  [['AveragePooling2D', 'AvgPool2D'], { kind: 'avgpool', positional: POOL, weights: 'none', dims: 2 }],
  [['AveragePooling3D', 'AvgPool3D'], { kind: 'avgpool', positional: POOL, weights: 'none', dims: 3 }],
  [['GlobalAveragePooling1D', 'GlobalAvgPool1D', 'GlobalMaxPooling1D', 'GlobalMaxPool1D'], { kind: 'global-pool', positional: ['data_format', 'keepdims'], weights: 'none', dims: 1 }],
  [['GlobalAveragePooling2D', 'GlobalAvgPool2D', 'GlobalMaxPooling2D', 'GlobalMaxPool2D'], { kind: 'global-pool', positional: ['data_format', 'keepdims'], weights: 'none', dims: 2 }],
  [['GlobalAveragePooling3D', 'GlobalAvgPool3D', 'GlobalMaxPooling3D', 'GlobalMaxPool3D'], { kind: 'global-pool', positional: ['data_format', 'keepdims'], weights: 'none', dims: 3 }],
  [['Flatten'], { kind: 'flatten', positional: ['data_format'], weights: 'none' }],
  [['Reshape'], { kind: 'reshape', positional: ['target_shape'], weights: 'none' }],
  // Shape-only layers without weights share the 'reshape' kind; params.op says which one.
  [['ZeroPadding1D', 'ZeroPadding2D', 'ZeroPadding3D'], { kind: 'reshape', positional: ['padding', 'data_format'], weights: 'none' }],
  [['Cropping1D', 'Cropping2D', 'Cropping3D'], { kind: 'reshape', positional: ['cropping', 'data_format'], weights: 'none' }],
  [['UpSampling1D', 'UpSampling2D', 'UpSampling3D'], { kind: 'reshape', positional: ['size', 'data_format', 'interpolation'], weights: 'none' }],
  [['Permute'], { kind: 'reshape', positional: ['dims'], weights: 'none' }],
  [['RepeatVector'], { kind: 'reshape', positional: ['n'], weights: 'none' }],
  [['Resizing', 'CenterCrop', 'RandomCrop'], { kind: 'reshape', positional: ['height', 'width'], weights: 'none' }],
  [['BatchNormalization', 'SyncBatchNormalization'], { kind: 'batchnorm', positional: ['axis', 'momentum', 'epsilon', 'center', 'scale', 'beta_initializer', 'gamma_initializer'], weights: 'none' }],
  [['LayerNormalization'], { kind: 'layernorm', positional: ['axis', 'epsilon', 'center', 'scale'], weights: 'none' }],
  [['GroupNormalization'], { kind: 'groupnorm', positional: ['groups', 'axis', 'epsilon'], weights: 'none' }],
  [['Dropout'], { kind: 'dropout', positional: ['rate', 'noise_shape', 'seed'], weights: 'none' }],
  [['SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D'], { kind: 'dropout', positional: ['rate'], weights: 'none' }],
  [['GaussianDropout'], { kind: 'dropout', positional: ['rate'], weights: 'none' }],
  // Additive noise regularizes like dropout and has no weights.
  [['GaussianNoise'], { kind: 'dropout', positional: ['stddev'], weights: 'none' }],
  [['AlphaDropout'], { kind: 'alpha-dropout', positional: ['rate', 'noise_shape', 'seed'], weights: 'none' }],
  [['Activation'], { kind: 'activation', positional: ['activation'], weights: 'none' }],
  [['ReLU'], { kind: 'activation', positional: ['max_value', 'negative_slope', 'threshold'], weights: 'none', activation: 'relu' }],
  [['LeakyReLU'], { kind: 'activation', positional: ['negative_slope'], weights: 'none', activation: 'leaky_relu' }],
  [['PReLU'], { kind: 'activation', positional: ['alpha_initializer'], weights: 'none', activation: 'prelu' }],
  [['ELU'], { kind: 'activation', positional: ['alpha'], weights: 'none', activation: 'elu' }],
  [['Softmax'], { kind: 'activation', positional: ['axis'], weights: 'none', activation: 'softmax' }],
  // keras.layers.Identity (Keras 2.12+ and 3) returns its input: the linear activation, as torch's nn.Identity.
  // So does the base `Layer` made as it is (`model.add(layers.Layer(input_shape=(32, 32, 3)))` as a Sequential's input).
  [['Identity', 'Layer'], { kind: 'activation', positional: [], weights: 'none', activation: 'linear' }],
  [['ThresholdedReLU'], { kind: 'activation', positional: ['theta'], weights: 'none', activation: 'relu' }],
  [['Embedding'], { kind: 'embedding', positional: ['input_dim', 'output_dim', 'embeddings_initializer'], weights: 'embedding' }],
  [['LSTM', 'CuDNNLSTM'], { kind: 'lstm', positional: RNN, weights: 'recurrent', defaultActivation: 'tanh', gates: 4 }],
  [['GRU', 'CuDNNGRU'], { kind: 'gru', positional: RNN, weights: 'recurrent', defaultActivation: 'tanh', gates: 3 }],
  [['SimpleRNN'], { kind: 'simple-rnn', positional: SIMPLE_RNN, weights: 'recurrent', defaultActivation: 'tanh', gates: 1 }],
  [['ConvLSTM1D'], { kind: 'lstm', positional: CONV, weights: 'recurrent', dims: 1, defaultActivation: 'tanh', gates: 4 }],
  [['ConvLSTM2D'], { kind: 'lstm', positional: CONV, weights: 'recurrent', dims: 2, defaultActivation: 'tanh', gates: 4 }],
  [['Bidirectional'], { kind: 'unknown', positional: ['layer', 'merge_mode'], weights: 'none', wrapper: 'bidirectional' }],
  [['TimeDistributed'], { kind: 'unknown', positional: ['layer'], weights: 'none', wrapper: 'time-distributed' }],
  [['Add'], { kind: 'add', positional: [], weights: 'none', merge: 'add' }],
  [['Subtract'], { kind: 'add', positional: [], weights: 'none', merge: 'subtract' }],
  [['Average'], { kind: 'add', positional: [], weights: 'none', merge: 'average' }],
  [['Maximum'], { kind: 'add', positional: [], weights: 'none', merge: 'maximum' }],
  [['Minimum'], { kind: 'add', positional: [], weights: 'none', merge: 'minimum' }],
  [['Multiply'], { kind: 'multiply', positional: [], weights: 'none', merge: 'multiply' }],
  [['Concatenate'], { kind: 'concat', positional: ['axis'], weights: 'none', merge: 'concatenate' }],
  // Called as mha(query, value, key=None): projections of every input, heads of key_dim, an output projection.
  [['MultiHeadAttention'], { kind: 'attention', positional: ['num_heads', 'key_dim', 'value_dim', 'dropout', 'use_bias', 'output_shape', 'attention_axes', 'kernel_initializer', 'bias_initializer'], weights: 'dense' }],
  [['Rescaling'], { kind: 'rescaling', positional: ['scale', 'offset'], weights: 'none' }],
  [['Normalization'], { kind: 'rescaling', positional: ['axis', 'mean', 'variance'], weights: 'none' }],
  // Augmentation and masking: identity at inference, no weights. Kept as 'unknown' (no IR kind
  // fits) with params.identity = true, and not reported as unsupported.
  [
    ['RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomContrast', 'RandomTranslation', 'RandomBrightness', 'RandomHeight', 'RandomWidth', 'Masking', 'ActivityRegularization'],
    { kind: 'unknown', positional: [], weights: 'none', identity: true },
  ],
];

const CATALOG = new Map<string, LayerSpec>();
for (const [names, spec] of entries) for (const name of names) CATALOG.set(name, spec);

/** The spec of a Keras layer class by its class name. */
export function layerSpec(className: string): LayerSpec | undefined {
  return CATALOG.get(className);
}

/** Functional merge helpers (`layers.add([a, b])`) and the layer class each stands for. */
export const MERGE_FUNCTIONS: Record<string, string> = {
  add: 'Add',
  subtract: 'Subtract',
  average: 'Average',
  maximum: 'Maximum',
  minimum: 'Minimum',
  multiply: 'Multiply',
  concatenate: 'Concatenate',
};
