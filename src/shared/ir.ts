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
  | 'attention' // torch nn.MultiheadAttention, Keras MultiHeadAttention (transformer layers expand into it)
  | 'position-embedding' // learned positions added to the input: torch nn.Parameter / Embedding(max_len, d), Keras Embedding of positions
  | 'local-response-norm' // torch nn.LocalResponseNorm (AlexNet, GoogLeNet): each value over the squares of its neighbouring channels
  | 'tensor-op' // torch tensor operations written in forward that move axes or multiply two computed tensors (transpose, unsqueeze, matmul, einsum)
  | 'backbone' // a pre-built image model used as one layer: Keras keras.applications (VGG16(include_top=False), ResNet50, ...)
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
  | 'abs' // |x|, elementwise (torch.abs): derivative sign(x)
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

/** Channel layout of a spatial tensor: Keras defaults to channels_last, PyTorch is channels_first. */
export type Layout = 'channels_last' | 'channels_first';

/**
 * Padding of a sliding window: Keras 'same' / 'valid' / 'causal' (Conv1D), or explicit symmetric
 * amounts per spatial dimension (PyTorch's `padding=1` on a 2-D conv is [1, 1]).
 */
export type Padding = 'same' | 'valid' | 'causal' | number[];

/**
 * Sliding-window settings of a convolution (also ConvLSTM). Lists hold one entry per spatial
 * dimension, or a single entry that applies to every dimension (`stride=2` -> [2], `strides=(2, 2)`
 * -> [2, 2], Keras 1 `subsample=(2, 2)` -> [2, 2]). null means written but not a constant (the output
 * shape is then unknown), never "not written": unwritten settings hold the framework default.
 */
export interface ConvConfig {
  /** How the kernel is laid out, which decides the fans (see src/shared/shapes.ts). */
  variant: 'standard' | 'transpose' | 'depthwise' | 'separable';
  strides: number[] | null;
  padding: Padding | null;
  dilation: number[] | null;
  /** Channel groups (torch `groups=`, Keras 3 `groups=`); 1 when not written. */
  groups: number | null;
  /** Depthwise and separable convolutions: output channels per input channel. */
  depthMultiplier: number;
  /** Transposed convolutions (torch `output_padding=`): extra size added on one side. */
  outputPadding: number[] | null;
  /** Separable convolutions: the pointwise (1x1) kernel, which has its own initializer and fans. */
  pointwise: { init: InitializerIR; fanIn: number | null; fanOut: number | null } | null;
}

export interface PoolConfig {
  /** Window steps (one entry per dimension or one for all); 'window' when not written (Keras and torch step by the window); null when not a constant. */
  strides: number[] | 'window' | null;
  padding: Padding | null;
  dilation: number[];
  /** torch `ceil_mode=True`: the last partial window counts. */
  ceilMode: boolean;
  /** torch adaptive pooling: the output size it produces (`AdaptiveAvgPool2d((7, 7))` -> [7, 7]). */
  adaptiveOutput: (number | null)[] | null;
}

/**
 * One size passed to torch's `x.view(...)` / `x.reshape(...)`, in torch's dimension order (batch at 0):
 * a constant (-1: inferred), the product of sizes of the tensor being viewed (`x.size(0)` -> [0],
 * `x.size(0) * x.size(1)` -> [0, 1]), or null when the code does not say it.
 */
export type ViewDim = number | { of: number[] } | null;

/** An operation whose change of shape the trace passes through without computing it: how it is spelled, where. */
export interface ShapePassMark {
  spelling: string;
  range: Range;
}

/**
 * A torch tensor operation written in `forward`, with its axes as written: torch's order, the batch at
 * axis 0, negative axes from the end. Shapes and values follow torch's definition of each (the probe
 * computes them in torch's axis order whatever layout it keeps images in).
 */
export type TensorOpConfig =
  | { op: 'transpose'; axes: [number, number] } // x.transpose(a, b), torch.transpose, x.swapaxes; x.t() is transpose(0, 1) of a 2-d tensor
  | { op: 'permute'; order: number[] } // x.permute(0, 2, 1): every axis, the batch's included
  | { op: 'unsqueeze'; axis: number } // a new axis of size 1
  | { op: 'squeeze'; axis: number | null } // drops the axis if its size is 1; null: every axis of size 1 (never the batch)
  /**
   * x.flatten(start_dim, end_dim), torch.flatten, nn.Flatten with other axes than (1, -1) (a ViT's
   * `conv(x).flatten(2)`: (B, C, H, W) -> (B, C, H*W)): the axes start..end, both included, made one.
   */
  | { op: 'flatten'; start: number; end: number }
  /**
   * One part of `x.split(size, dim)` (parts of `size`, the last shorter), `x.split([a, b], dim)` (parts
   * of the sizes listed) or `x.chunk(n, dim)` (n parts of ceil(length / n)): the part at `index`.
   */
  | { op: 'split'; axis: number; index: number; by: { size: number } | { sizes: number[] } | { chunks: number } }
  /**
   * `att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))` with a torch.tril buffer: every entry
   * above the diagonal of the last two axes hidden (-inf, so a softmax gives it nothing).
   */
  | { op: 'causal-mask' }
  /** torch.matmul / bmm / mm / `a @ b` of two computed tensors (batched over the leading axes, broadcast), or torch.einsum with its equation. */
  | { op: 'matmul'; equation: string | null }
  /**
   * F.scaled_dot_product_attention(q, k, v) (torch >= 2.0) on the inputs [query, key, value], (..., L, E),
   * (..., S, E), (..., S, Ev) -> (..., L, Ev): softmax(q k^T * scale [+ causal mask]) v, with `scale`
   * 1 / sqrt(E) when the code writes none (null), dropout on the weights while training at `dropout`.
   */
  | { op: 'dot-product-attention'; causal: boolean; scale: number | null; dropout: number }
  /**
   * `att * (1.0 / math.sqrt(k.size(-1)))`: the first input times factor * size^power, the size read from
   * `axis` (torch's, batch 0) of the second input, which is read for its shape only (no gradient to it).
   */
  | { op: 'size-scale'; axis: number; power: number; factor: number };

/** Shape-only layers without weights, by what they do. */
export type ReshapeConfig =
  | { op: 'reshape'; target: number[] | null } // Keras Reshape target_shape (-1 allowed)
  | { op: 'zero-padding'; pads: [number, number][] | null } // [before, after] per spatial dimension
  | { op: 'edge-padding'; mode: 'reflect' | 'replicate'; pads: [number, number][] | null } // torch ReflectionPad / ReplicationPad
  | { op: 'pixel-shuffle'; factor: number | null } // torch PixelShuffle: (C*r*r, H, W) -> (C, H*r, W*r)
  | { op: 'cropping'; crops: [number, number][] | null }
  /**
   * Keras UpSampling / torch Upsample: per spatial dimension a scale factor (integer for Keras, any
   * positive number for torch: the output is floor(side * factor)), or `size`, the output's spatial
   * sides (torch size=). `mode` nearest (the default of both) or bilinear (linear per axis; torch
   * 'linear' on 1-D); `alignCorners` is torch's align_corners=True (corner pixels map onto corner pixels).
   */
  | { op: 'upsampling'; factors: number[] | null; size?: number[]; mode?: 'nearest' | 'bilinear'; alignCorners?: boolean }
  | { op: 'permute'; dims: number[] | null } // Keras Permute: 1-based, batch excluded
  | { op: 'repeat-vector'; n: number | null }
  | { op: 'view'; dims: ViewDim[] | null } // torch x.view / x.reshape: every size as written, the batch first; null when a splat hides them
  | { op: 'other'; className: string }; // Unflatten, PixelShuffle, Resizing, ...: shape not modelled

/**
 * How a layer normalization written by hand divides by the spread of its features: torch's x.std and
 * x.var divide by n - 1 unless told `unbiased=False` / `correction=0`, and `(x - mean) / (std + eps)`
 * adds eps outside the root. The frameworks' own layers: biased variance, eps inside the root.
 */
export interface NormSpread {
  unbiased: boolean;
  epsInsideRoot: boolean;
}

export interface NormConfig {
  /** Keras `axis=` as written (counting the batch axis); null when not written. */
  axis: number | number[] | null;
  /** Keras `epsilon=` / torch `eps=`; null when not written. */
  epsilon: number | null;
  momentum: number | null;
  /** Whether it learns a scale and shift (torch affine / elementwise_affine, Keras center+scale); null when unknown. */
  affine: boolean | null;
  /** GroupNorm groups (torch num_groups, Keras groups). */
  groups: number | null;
  /** A layer normalization written by hand whose spread differs from the frameworks' (see NormSpread); absent otherwise. */
  spread?: NormSpread;
}

export interface RecurrentConfig {
  bidirectional: boolean;
  /** Keras Bidirectional merge_mode ('concat', 'sum', 'mul', 'ave', 'none'); torch concatenates. */
  mergeMode: 'concat' | 'sum' | 'mul' | 'ave' | 'none';
  /** Keras return_sequences (false when not written); null for torch, whose module returns both. */
  returnSequences: boolean | null;
  /** torch num_layers (stacked cells); 1 for Keras. null when written but not constant. */
  numLayers: number | null;
  batchFirst: boolean | null;
  /** Dropout between stacked layers (torch) or on the inputs (Keras `dropout=`). */
  dropout: number | null;
  recurrentDropout: number | null;
  /** Gate activation of LSTM/GRU (Keras recurrent_activation, default sigmoid); null for simple RNNs. */
  recurrentActivation: ActivationName | null;
  /** Keras LSTM unit_forget_bias (default true): the forget gate's bias starts at 1. */
  unitForgetBias: boolean;
  /** ConvLSTM: the convolution each gate applies; null for plain recurrent layers. */
  conv: ConvConfig | null;
}

export interface MergeConfig {
  op: 'add' | 'subtract' | 'average' | 'maximum' | 'minimum' | 'multiply' | 'concatenate';
  /** Concatenation axis as written (Keras `axis=`, torch `dim=`), counting the batch axis; null when not written (-1). */
  axis: number | null;
}

/**
 * Multi-head attention. The layer's `inputs` are [query, key, value] (ids may repeat: self-attention
 * lists one tensor three times). `units` is the output features (torch embed_dim; Keras output_shape,
 * else the query's features), `kernelInit`/`biasInit` are the projections' (torch in_proj: xavier_uniform
 * and zeros, its out_proj keeps nn.Linear's kaiming_uniform(a=sqrt(5)) weight and a zero bias; Keras:
 * glorot_uniform and zeros on every projection).
 */
export interface AttentionConfig {
  heads: number | null;
  /** Size of one head's query and key (torch embed_dim / num_heads, Keras key_dim). */
  keyDim: number | null;
  /** Size of one head's value (torch: vdim / num_heads, = keyDim by default; Keras value_dim, else key_dim). */
  valueDim: number | null;
  /** Dropout on the attention weights while training (torch dropout=, Keras dropout=), 0 when not written. */
  dropout: number | null;
  /** torch batch_first (default False: (time, batch, features)); null for Keras, always batch first. */
  batchFirst: boolean | null;
  /** A causal mask is applied (torch is_causal=True or an attn_mask, Keras use_causal_mask=True). */
  causal: boolean;
}

/** The fields of a layer that only some kinds have: a discriminated union on `kind`. */
export type LayerDetail =
  | { kind: 'input'; shape: (number | null)[] | null }
  | { kind: 'dense'; in2Features: number | null } // torch Bilinear's second input
  | { kind: 'conv1d' | 'conv2d' | 'conv3d' | 'conv-transpose'; conv: ConvConfig }
  | { kind: 'maxpool' | 'avgpool'; pool: PoolConfig }
  | { kind: 'global-pool'; reduce: 'avg' | 'max'; keepdims: boolean | null }
  /** Every axis after the batch made one (Keras Flatten, torch flatten(1, -1)); other torch axes are a 'flatten' tensor-op. */
  | { kind: 'flatten' }
  | { kind: 'reshape'; reshape: ReshapeConfig }
  | { kind: 'batchnorm' | 'layernorm' | 'groupnorm'; norm: NormConfig }
  | { kind: 'dropout' | 'alpha-dropout'; rate: number | null; noise: 'dropout' | 'spatial' | 'gaussian-dropout' | 'gaussian-noise' }
  | { kind: 'activation' }
  | { kind: 'embedding'; paddingIdx: number | null }
  | { kind: 'lstm' | 'gru' | 'simple-rnn'; recurrent: RecurrentConfig }
  | { kind: 'add' | 'concat' | 'multiply'; merge: MergeConfig }
  | { kind: 'rescaling'; scale: number | null; offset: number | null; op: 'rescaling' | 'normalization' | 'lambda' }
  | { kind: 'attention'; attention: AttentionConfig }
  /** `units` is the feature size, `positions` the table's length (the model reads its first T rows); kernelInit draws the table. */
  | { kind: 'position-embedding'; positions: number | null }
  | { kind: 'local-response-norm'; lrn: LrnConfig }
  /** `op` null: written with arguments the trace cannot read as constants (never built by the probe). */
  | { kind: 'tensor-op'; op: TensorOpConfig | null }
  | { kind: 'backbone'; backbone: BackboneConfig }
  | { kind: 'unknown'; identity: boolean };

/**
 * One downsampling step of a backbone, on each spatial side: out = ceil(in / stride) for 'same',
 * else floor((in + pad - kernel) / stride) + 1 with `pad` the total zero padding of the side.
 */
export interface SpatialReduction {
  kernel: number;
  stride: number;
  pad: number | 'same';
}

/**
 * A pre-built image model applied as one layer (Keras keras.applications): what it outputs, read
 * from the analyzer's catalogue of architectures, and whether its weights train. Its own layers are
 * not in the IR: a frozen base is a fixed feature extractor, which the prediction and the probe both
 * stand in for by post-ReLU features of the shape below (docs/probe.md, "Pre-trained bases").
 */
export interface BackboneConfig {
  /** The constructor, e.g. "VGG16", "ResNet50". */
  architecture: string;
  /** Channels of the last feature map (include_top=False). */
  channels: number;
  /** The input side the architecture is built for when `input_shape=` is not written. */
  defaultSide: number;
  /** From the input image to the last feature map, in order. */
  reductions: SpatialReduction[];
  /** `pooling='avg' | 'max'`: the feature map reduced to a vector (include_top=False only). */
  pooling: 'avg' | 'max' | null;
  /** include_top=True: the ImageNet classifier's classes (`classes=`, 1000 by default); null without it. */
  classes: number | null;
  /**
   * Whether its weights train when the model is first compiled: 'frozen' (`base.trainable = False`,
   * or every layer's `trainable = False`), 'trainable' (the Keras default), 'partly' (some layers
   * unfrozen: `for layer in base.layers[:-4]: layer.trainable = False`), 'unknown' (written with a
   * value the analyzer cannot read).
   */
  training: 'frozen' | 'trainable' | 'partly' | 'unknown';
  /** Where that state is written (the `trainable` assignment or loop); null for the default. */
  trainingAt: Range | null;
  /** A later change of it (fine-tuning after the first compile), not modelled; null when none. */
  changedLaterAt: Range | null;
}

/**
 * torch nn.LocalResponseNorm(size, alpha=1e-4, beta=0.75, k=1.0): b_c = a_c / (k + alpha / size *
 * sum of a_c'^2 over `size` channels around c)^beta. Null where the code does not give a constant.
 */
export interface LrnConfig {
  size: number | null;
  alpha: number | null;
  beta: number | null;
  k: number | null;
}

export interface LayerCommon {
  /** Unique within the model: "L0", "L1", ... in execution order. */
  id: string;
  /** Attribute name (self.fc1 -> "fc1"), keras name= kwarg, Sequential/OrderedDict key, or generated ("dense_2"). */
  name: string;
  /** The constructor as written, e.g. "layers.Dense", "nn.Linear", "BN". */
  className: string;
  /** The constructor call (for unrolled copies: the one call that made every copy). */
  range: Range;
  /**
   * For a layer another file's code makes when the model's file builds a module of that file
   * (`self.net = BackBone(...)`, `range` then points at that line): its constructor call there.
   * Findings about the layer are marked there too.
   */
  writtenAt?: Location;
  /** Set when the layer is one copy of a loop/comprehension with constant bounds. */
  unrolled: { index: number; count: number } | null;
  /** Output units: Dense units, Linear out_features, Conv filters/out_channels, RNN hidden size, Embedding dim, norm features. */
  units: number | null;
  /** Input features when written or inferred: Linear in_features, Conv in_channels, RNN input_size, Embedding vocabulary. */
  inFeatures: number | null;
  /** Window size per spatial dimension: conv kernel_size, pool pool_size/kernel_size. */
  kernelSize: number[] | null;
  /** The activation applied by this layer (fused `activation=` or, for kind 'activation', the activation itself). */
  activation: ActivationIR | null;
  kernelInit: InitializerIR | null;
  biasInit: InitializerIR | null;
  /** Recurrent layers only. */
  recurrentInit: InitializerIR | null;
  /** Whether the layer adds a bias; true when `use_bias=` / `bias=` is written but not a constant. */
  useBias: boolean;
  /** Fan-in / fan-out of the kernel when sizes can be known (receptive field included for convs). */
  fanIn: number | null;
  fanOut: number | null;
  /** Keras `data_format=` written on the layer; null = the framework's layout. */
  dataFormat: Layout | null;
  /** Keras TimeDistributed(...): the layer applies to every time step. */
  timeDistributed: boolean;
  /** Built on one branch of an `if` only: the layer may be absent. */
  conditional: boolean;
  /** Built in a loop whose trip count is unknown: may be repeated. */
  repeated: boolean;
  /**
   * Its weights are not trained: torch `requires_grad = False` / `.requires_grad_(False)` on its parameters
   * (a frozen pre-trained trunk), `nn.Embedding.from_pretrained(w)` (freeze=True by default). No gradient
   * reaches them and the optimizer leaves them; the signal still passes through. A layer with only some
   * parameters frozen counts as frozen once its weight is.
   */
  frozen: boolean;
  /**
   * Applied under torch `with torch.no_grad():` (inference_mode, set_grad_enabled(False)): its output has
   * no grad_fn, so no gradient flows back through it to what feeds it (it is frozen too). A layer whose
   * every path to the loss passes through such layers gets no gradient and is marked frozen.
   */
  noGrad: boolean;
  /**
   * Id of the first application of the same layer object when this application reuses its parameters
   * (torch: the same module attribute called again, each sublayer of a shared nn.Sequential or
   * submodule, an RNN cell stepped in a loop; Keras: the same layer object called again). The framework
   * holds one set of parameters, whose gradient is the sum over applications. Only layers with
   * parameters (see hasParameters); null for the first application and for distinct constructions
   * (a loop building N blocks, copy.deepcopy).
   */
  sharesWeightsWith: string | null;
  /**
   * torch: the last operation on the way into this layer that changes its input's shape in a way the
   * trace does not compute (`x.unsqueeze(1)`, `torch.einsum(...)`, `.repeat(...)`, `torch.bmm`). Shapes
   * are taken through it unchanged, so a shape that does not fit here may be its doing; the probe's
   * refusal names it. Absent when no such operation precedes the layer.
   */
  shapePassedThrough?: ShapePassMark;
  /**
   * torch: the model returns this layer's output besides feeding later layers (the intermediate
   * heatmaps of a stacked hourglass, stacked into the result and fed back in): a prediction of its
   * own, not only a hidden layer. Absent otherwise.
   */
  returnedToo?: true;
  /**
   * torch: nothing the model returns depends on this layer's output (a layer applied in forward whose
   * result is dropped): autograd never reaches it, so it gets no gradient and is not an output the loss
   * reads. Set only when the returned value is known and some layer nothing reads is part of it.
   */
  unreturned?: true;
  /** For graphs: ids of the layers feeding this one (empty for the first layer of a chain). */
  inputs: string[];
  /**
   * Where the layer's kernel initializer could be changed in source (the `kernel_initializer=` value,
   * or the call's argument list end where a kwarg can be inserted). Used by fixes.
   */
  argsRange: Range | null;
}

/** One layer: the common fields plus the typed fields of its kind (narrow on `kind`). */
export type LayerIR = LayerCommon & LayerDetail;

/** The layer types whose kinds overlap K, e.g. `LayerOf<'lstm' | 'gru'>` (a member covering several kinds is kept whole). */
export type LayerOf<K extends LayerKind> = LayerIR extends infer L ? (L extends { kind: infer LK } ? ([Extract<LK, K>] extends [never] ? never : L) : never) : never;

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

/** Gradient clipping in a training loop: its kind, where, and its threshold when known. */
export interface LoopClipIR {
  kind: 'norm' | 'value';
  range: Range;
  threshold: number | null;
}

/** A PyTorch training loop: `loss.backward()` ... `optimizer.step()`. */
export interface TrainingLoopIR {
  file: string;
  backward: Range;
  step: Range;
  /**
   * clip_grad_norm_ / clip_grad_value_ between backward and step, if any. `threshold`: the max norm or
   * the largest value kept, when written as a number the analysis knows; null for a project helper or
   * an unknown value (`args.clip`).
   */
  clip: LoopClipIR | null;
  /** The optimizer variable that steps, when it resolves to a known optimizer. */
  optimizer: OptimizerIR | null;
  /** `optimizer.step(closure)` (LBFGS): the closure whose backward() computes the gradients; clipping belongs in it. */
  closure?: Range;
  /**
   * A PyTorch Lightning Trainer runs the loop (`trainer.fit(model)`): `step` is the `Trainer(...)` call,
   * where `gradient_clip_val=` clips (or not), `backward` the `fit(...)` call.
   */
  trainer?: true;
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

/** A loss the training computes. */
export interface LossIR {
  /** Canonicalized when known ('categorical_crossentropy', 'mse', ...), else as written. */
  name: string;
  /**
   * Whether the loss applies its own softmax or sigmoid to what it reads: true for torch's
   * CrossEntropyLoss and BCEWithLogitsLoss and Keras' `from_logits=True`, false for a loss that reads
   * probabilities (torch's BCELoss, Keras' cross-entropies by default); null when the name says neither (mse).
   */
  fromLogits: boolean | null;
  /** Where the code applies it (the criterion called in a loop, compile's `loss=`); null when not written at one place (a loss inside forward). */
  at: Location | null;
  /**
   * Whether it reads this model's own output: true for compile's loss and a loop's criterion called on
   * the model's output, false when it reads another model's (a generator trained through its
   * discriminator), null when the code does not say.
   */
  onOutput: boolean | null;
  /** The output it is written for (a key of Keras' `loss={'name': ...}`, the output layer's name); null for every output. */
  output: string | null;
  /**
   * An activation the loss call applies to the model's output before the loss reads it
   * (`criterion(F.softmax(out, dim=1), y)`), and where; null when it reads the output as it is.
   */
  appliedFirst: { name: ActivationName; at: Location } | null;
}

export interface TrainingIR {
  /** The optimizer that actually reaches compile/fit (keras) or steps the model's parameters (torch). */
  optimizer: OptimizerIR | null;
  /** keras model.compile(...) call, if seen. */
  compile: Location | null;
  /** keras model.fit(...) call (or fit_generator / train_on_batch), if seen. */
  fit: Location | null;
  /**
   * keras model.predict(...) call (or predict_on_batch / load_weights), if seen: the code uses the model
   * for inference (see compileRuns).
   */
  predict: Location | null;
  /**
   * The losses the training computes, in the order written, each once: compile's loss, or the criteria a
   * torch loop's loss adds up (a GAN discriminator's BCELoss on one head and CrossEntropyLoss on another).
   * Empty when none is known.
   */
  losses: LossIR[];
  loops: TrainingLoopIR[];
  data: DataSourceIR[];
}

export interface ModelIR {
  /** Stable within a file: `${name}@${line}`. */
  id: string;
  /** Variable or class name. */
  name: string;
  /** The name the code gives the model (`Sequential(name="mlp")`, `Model(..., name="net")`), when written. */
  declaredName: string | null;
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
  /**
   * The complete input shape the probe should feed, and where it was read (see InputShapeGuess).
   * Set by the analyzer for every model it extracts; absent in hand-built IRs.
   */
  inputGuess?: InputShapeGuess | null;
  /**
   * Set when sizes of the model are computed from its input's shape (`K.int_shape(x)` for a stride, a
   * window, filters or a condition) and the code leaves that shape to its caller: the guessed input they
   * were computed for. The probe feeds this input; another one would need other sizes.
   */
  sizedForInput?: InputShapeGuess;
  /** True when the file builds it outside any model class: a call of its class or factory, or module-level code. */
  instantiated?: boolean;
  /** Layers in execution order (topological order for graphs). */
  layers: LayerIR[];
  /** True when layer order is a DAG (functional / forward with residuals): use LayerIR.inputs. */
  isGraph: boolean;
  training: TrainingIR;
  /** Constructs the extractor saw but could not model (named with their line), for messages. */
  unsupported: { what: string; range: Range }[];
  /**
   * Set when the extractor stopped reading the model part-way (a limit, said in `unsupported`): why.
   * Its layers are then a part of the model, which the prediction and the probe do not judge as the whole.
   */
  truncated?: string;
  /**
   * Set when calls of one class or builder built different models: the call this model is (as
   * written, e.g. "Mlp(fill=0)"), in `file` (the model's own file or another of the workspace).
   */
  instance?: { label: string; file: string; range: Range };
}

/** Where an input shape was read, best first: the model's own code, the data code, an example tensor, layer constraints, a documented default. 'user' is an answer the editor asked for. */
export type InputShapeSource = 'model' | 'data' | 'example' | 'constraint' | 'default' | 'user';

export interface InputShapeGuess {
  /** Without the batch dimension, in the framework's layout (PyTorch C,H,W; Keras H,W,C). */
  shape: number[];
  /** Integer token ids (the model starts with an Embedding). */
  tokens: boolean;
  /** 'channels_first' when the first axis is channels and later axes spatial (PyTorch images); 'channels_last' otherwise. */
  layout: 'channels_first' | 'channels_last';
  source: InputShapeSource;
  /** What the shape was read from, for the note: "torchvision.datasets.CIFAR10 (line 12)". */
  evidence: string;
}

export function emptyTraining(): TrainingIR {
  return { optimizer: null, compile: null, fit: null, predict: null, losses: [], loops: [], data: [] };
}
