/**
 * The model IR: one model found in source code, independent of how it was written.
 * Produced by src/analysis/extract, consumed by rules, hovers, the CLI and the probe.
 * Positions are 0-based (LSP convention); the CLI converts to 1-based when printing.
 */

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** A range in a named file. Project-level facts (a training loop in train.py) live in other files. */
export interface Location {
  file: string;
  range: Range;
}

export type Framework = 'keras' | 'torch';

/** How the model was written. */
export type ModelStyle =
  | 'keras-sequential' // Sequential([...])
  | 'keras-add' // model = Sequential(); model.add(...)
  | 'keras-functional' // x = Dense(..)(x); Model(inputs, outputs)
  | 'keras-subclass' // class M(keras.Model): __init__ + call
  | 'torch-sequential' // nn.Sequential(...)
  | 'torch-module'; // class M(nn.Module): __init__ + forward

export type LayerKind =
  | 'input'
  | 'dense'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv-transpose'
  | 'maxpool'
  | 'avgpool'
  | 'global-pool'
  | 'flatten'
  | 'reshape'
  | 'batchnorm'
  | 'layernorm'
  | 'groupnorm'
  | 'dropout'
  | 'alpha-dropout'
  | 'activation'
  | 'embedding'
  | 'lstm'
  | 'gru'
  | 'simple-rnn'
  | 'add'
  | 'concat'
  | 'multiply'
  | 'rescaling' // keras Rescaling / Normalization preprocessing layers
  | 'unknown';

/** Canonical activation names. Keras and PyTorch spellings map onto these. */
export type ActivationName =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'leaky_relu'
  | 'prelu'
  | 'elu'
  | 'selu'
  | 'gelu'
  | 'swish' // == silu
  | 'mish'
  | 'softplus'
  | 'sigmoid'
  | 'hard_sigmoid'
  | 'tanh'
  | 'softsign'
  | 'softmax'
  | 'log_softmax'
  | 'exponential'
  | 'unknown';

export interface ActivationIR {
  name: ActivationName;
  /** As written in the source, e.g. "'tanh'", "tf.nn.relu", "F.relu", "nn.Tanh()". */
  spelling: string;
  /** Where it is written; null when it is a framework default (e.g. Dense with no activation). */
  range: Range | null;
  /** How it entered the model. */
  source: 'kwarg' | 'layer' | 'functional' | 'default';
  /** Numeric parameters such as LeakyReLU's negative slope (`alpha` / `negative_slope`). */
  params: Record<string, number>;
}

/** Canonical initializer names. Keras and PyTorch families are kept apart because their semantics differ. */
export type InitializerName =
  | 'zeros'
  | 'ones'
  | 'constant'
  | 'random_normal' // keras RandomNormal / torch normal_
  | 'random_uniform' // keras RandomUniform / torch uniform_
  | 'truncated_normal' // keras TruncatedNormal / torch trunc_normal_
  | 'glorot_uniform'
  | 'glorot_normal' // keras: truncated normal
  | 'he_uniform'
  | 'he_normal' // keras: truncated normal
  | 'lecun_uniform'
  | 'lecun_normal' // keras: truncated normal
  | 'variance_scaling'
  | 'orthogonal'
  | 'identity'
  | 'xavier_uniform' // torch: gain parameter
  | 'xavier_normal'
  | 'kaiming_uniform' // torch: a, mode, nonlinearity parameters
  | 'kaiming_normal'
  | 'torch_default_bias' // U(-1/sqrt(fan_in), 1/sqrt(fan_in))
  | 'unknown';

export interface InitializerIR {
  name: InitializerName;
  /**
   * Parameters with framework semantics, e.g. {stddev}, {minval,maxval}, {value}, {mean,std},
   * {a,b} (torch uniform_), {scale} plus mode/distribution in `options`, {gain}, {a} for kaiming.
   */
  params: Record<string, number>;
  /** Non-numeric parameters: mode ('fan_in'|'fan_out'|'fan_avg'), distribution, nonlinearity. */
  options: Record<string, string>;
  /** As written ("'he_normal'", "HeNormal()", "nn.init.kaiming_normal_(...)") or "(default)". */
  spelling: string;
  /** Where it is written; null for framework defaults. */
  range: Range | null;
  /** False for a framework default the user did not write. */
  explicit: boolean;
  framework: Framework;
}

export interface LayerIR {
  /** Unique within the model: "L0", "L1", ... in execution order. */
  id: string;
  /** Attribute name (self.fc1 -> "fc1"), keras name= kwarg, Sequential/OrderedDict key, or generated ("dense_2"). */
  name: string;
  kind: LayerKind;
  /** The constructor as written, e.g. "layers.Dense", "nn.Linear", "BN". */
  className: string;
  /** The constructor call (for unrolled copies: the one call that made every copy). */
  range: Range;
  /** Set when the layer is one copy of a loop/comprehension with constant bounds. */
  unrolled: { index: number; count: number } | null;
  /** Output units: Dense units, Linear out_features, Conv filters/out_channels, RNN hidden size, Embedding dim. */
  units: number | null;
  /** Input features when written or inferred: Linear in_features, Conv in_channels, RNN input_size. */
  inFeatures: number | null;
  kernelSize: number[] | null;
  /** The activation applied by this layer (fused `activation=` or, for kind 'activation', the activation itself). */
  activation: ActivationIR | null;
  kernelInit: InitializerIR | null;
  biasInit: InitializerIR | null;
  /** Recurrent layers only. */
  recurrentInit: InitializerIR | null;
  useBias: boolean;
  /** Fan-in / fan-out of the kernel when sizes can be known (receptive field included for convs). */
  fanIn: number | null;
  fanOut: number | null;
  /** Other constant arguments (dropout rate, momentum, epsilon, num_layers, return_sequences as 0/1, ...). */
  params: Record<string, number | string | boolean>;
  /** For graphs: ids of the layers feeding this one (empty for the first layer of a chain). */
  inputs: string[];
  /**
   * Where the layer's kernel initializer could be changed in source (the `kernel_initializer=` value,
   * or the call's argument list end where a kwarg can be inserted). Used by fixes.
   */
  argsRange: Range | null;
}

export interface OptimizerIR {
  /** Canonical lower-case name: 'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adadelta', 'adamax', 'nadam', 'lbfgs', 'unknown'. */
  name: string;
  spelling: string;
  file: string;
  range: Range;
  /** null when not written (the framework default then applies: see `learningRateIsDefault`). */
  learningRate: number | null;
  learningRateRange: Range | null;
  momentum: number | null;
  clipnorm: number | null;
  clipvalue: number | null;
  globalClipnorm: number | null;
  /**
   * Arguments written whose value is not statically known (e.g. ["clipnorm"] for `clipnorm=args.clip`,
   * "**" for a `**kwargs` splat): such an optimizer may clip or use any rate, so rules stay silent.
   */
  unresolved?: string[];
}

/** A PyTorch training loop: `loss.backward()` ... `optimizer.step()`. */
export interface TrainingLoopIR {
  file: string;
  backward: Range;
  step: Range;
  /** clip_grad_norm_ / clip_grad_value_ between backward and step, if any. */
  clip: { kind: 'norm' | 'value'; range: Range } | null;
  /** The optimizer variable that steps, when it resolves to a known optimizer. */
  optimizer: OptimizerIR | null;
  /** `optimizer.step(closure)` (LBFGS): the closure whose backward() computes the gradients; clipping belongs in it. */
  closure?: Range;
}

/** A data source visible in the same file (GL501): e.g. mnist.load_data(), image_dataset_from_directory. */
export interface DataSourceIR {
  file: string;
  /** The loader as written, e.g. "keras.datasets.mnist.load_data". */
  loader: string;
  range: Range;
  /** 'image' when the loader yields raw 0..255 pixels. */
  kind: 'image' | 'other';
  /** true when scaling/normalization was seen between the loader and fit/training; null when unknowable. */
  scaled: boolean | null;
  /** Where the unscaled data reaches training (fit call / loop), when known. */
  reachesTraining: Range | null;
}

export interface TrainingIR {
  /** The optimizer that actually reaches compile/fit (keras) or steps the model's parameters (torch). */
  optimizer: OptimizerIR | null;
  /** keras model.compile(...) call, if seen. */
  compile: Location | null;
  /** keras model.fit(...) call, if seen. */
  fit: Location | null;
  /** Loss as written in compile or the torch criterion, canonicalized when known ('categorical_crossentropy', 'mse', ...). */
  loss: string | null;
  loops: TrainingLoopIR[];
  data: DataSourceIR[];
}

export interface ModelIR {
  /** Stable within a file: `${name}@${line}`. */
  id: string;
  /** Variable or class name. */
  name: string;
  framework: Framework;
  style: ModelStyle;
  file: string;
  /** The whole definition (class body, Sequential call, or first to last functional line). */
  range: Range;
  /** Where the model's name is written (CodeLens anchor). */
  nameRange: Range;
  /**
   * Names another module can import to reach this model: the class name, the factory function
   * that builds and returns it, or the module-level variable bound to it.
   */
  exports: string[];
  /** Input shape without the batch dimension, entries null when unknown; null when nothing is known. */
  inputShape: (number | null)[] | null;
  /** Layers in execution order (topological order for graphs). */
  layers: LayerIR[];
  /** True when layer order is a DAG (functional / forward with residuals): use LayerIR.inputs. */
  isGraph: boolean;
  training: TrainingIR;
  /** Constructs the extractor saw but could not model (named with their line), for messages. */
  unsupported: { what: string; range: Range }[];
}

export function emptyTraining(): TrainingIR {
  return { optimizer: null, compile: null, fit: null, loss: null, loops: [], data: [] };
}
