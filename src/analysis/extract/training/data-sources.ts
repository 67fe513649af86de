/**
 * Image data sources visible in a file and whether their pixels are scaled before training (GL501).
 *
 * Keras: the `x` argument of `model.fit(...)` is traced back through assignments, NumPy/tf.data
 * pass-throughs (`astype`, `reshape`, `np.array`, `.batch`, `.cache`) and list appends to a loader
 * (`keras.datasets.mnist.load_data()`, `image_dataset_from_directory`, `ImageDataGenerator.flow*`,
 * `cv2.imread`, `PIL.Image.open`, `load_img`). Division, subtraction, multiplication, scalers,
 * `preprocess_input` and `.map(...)` with a scaling function count as scaling. Anything the trace
 * cannot follow makes the answer unknown (null), which never produces a finding.
 *
 * PyTorch: torchvision datasets are judged by their `transform`: ToTensor / Normalize /
 * ToDtype(scale=True) scale; PILToTensor / ToImage alone leave 0..255 values. Such a dataset is
 * attached to the one model the file's loops train.
 */
import { usedWholeFileFact } from '../file-wide';
import type { Node } from '../../python/syntax-tree';
import type { DataSourceIR, Range } from '../../../shared/ir';
import type { PyFile } from '../../python/file';
import { callArguments, descendantsOfType, namedChildren, rangeOf, unparen, requiredField } from '../../python/syntax';
import { callsNamed, callsWithLastName, originOf, reachingDefinition, scopeNodeOf, type Resolve } from './flow';
import type { ModelResolver, ModelRef } from './model-refs';
import type { TrainingIR } from '../../../shared/ir';

type KnownRef = Exclude<ModelRef, { kind: 'other' }>;

interface TrainingSink {
  get(ref: KnownRef): TrainingIR;
  all(): { ref: KnownRef; training: TrainingIR }[];
}

const IMAGE_DATASETS = /^keras\.datasets\.(mnist|fashion_mnist|cifar10|cifar100)\.load_data$/;
const IMAGE_LOADERS = new Set([
  'keras.utils.image_dataset_from_directory',
  'keras.preprocessing.image_dataset_from_directory',
  'keras.preprocessing.image.load_img',
  'keras.utils.load_img',
  'cv2.imread',
  'PIL.Image.open',
  'imageio.imread',
  'imageio.v2.imread',
  'matplotlib.pyplot.imread',
  'skimage.io.imread',
]);
/** ImageDataGenerator options that scale or standardize the pixels. */
const GENERATOR_SCALING = ['rescale', 'preprocessing_function', 'featurewise_std_normalization', 'samplewise_std_normalization', 'featurewise_center', 'samplewise_center'];
/** Calls whose first argument flows through unchanged in scale. */
const PASS_THROUGH_FUNCTIONS = new Set([
  'numpy.array', 'numpy.asarray', 'numpy.expand_dims', 'numpy.stack', 'numpy.concatenate', 'numpy.vstack', 'numpy.reshape',
  'numpy.squeeze', 'tensorflow.convert_to_tensor', 'tensorflow.constant', 'tensorflow.expand_dims', 'tensorflow.reshape',
  'torch.tensor', 'torch.from_numpy', 'torch.stack', 'torch.cat', 'list', 'keras.preprocessing.image.img_to_array',
  'keras.utils.img_to_array', 'cv2.resize', 'cv2.cvtColor',
  // `X_train, X_test, y_train, y_test = train_test_split(X, y)`: the features come from the first argument.
  'sklearn.model_selection.train_test_split', 'sklearn.utils.shuffle',
]);
/** Methods that keep the scale of their receiver. */
const PASS_THROUGH_METHODS = new Set([
  'astype', 'reshape', 'copy', 'squeeze', 'transpose', 'cache', 'prefetch', 'shuffle', 'batch', 'repeat', 'take', 'skip',
  'unbatch', 'with_options', 'float', 'double', 'numpy', 'to', 'view', 'unsqueeze', 'permute', 'convert', 'resize',
]);
/** Calls that scale or standardize what they are given. */
const SCALING_CALL = /(preprocess_input|normalize|standardize|per_image_standardization|convert_image_dtype|fit_transform|transform|rescale|minmax_scale|scale)$/i;
const SCALING_TEXT = /\/|\*|\bRescaling\b|\bNormalization\b|normaliz|standardiz|preprocess_input|convert_image_dtype/;

interface Trace {
  loader: Node | null;
  scaled: boolean | null;
}

const UNKNOWN: Trace = { loader: null, scaled: null };
const MAX_DEPTH = 24;

function loaderKind(qualified: string | null): 'image' | null {
  if (!qualified) return null;
  return IMAGE_DATASETS.test(qualified) || IMAGE_LOADERS.has(qualified) ? 'image' : null;
}

class DataTracer {
  constructor(private readonly resolve: Resolve) {}

  trace(node: Node, depth = 0): Trace {
    if (depth > MAX_DEPTH) return UNKNOWN;
    const n = unparen(node);
    switch (n.type) {
      case 'identifier':
        return this.traceName(n, depth);
      case 'binary_operator': {
        const op = n.childForFieldName('operator')?.text;
        const left = n.childForFieldName('left');
        if (op === '/' || op === '*' || op === '-' || op === '//') return { loader: left ? this.trace(left, depth + 1).loader : null, scaled: true };
        return UNKNOWN;
      }
      case 'subscript': {
        const value = n.childForFieldName('value');
        return value ? this.trace(value, depth + 1) : UNKNOWN;
      }
      case 'call':
        return this.traceCall(n, depth);
      default:
        return UNKNOWN;
    }
  }

  private traceName(id: Node, depth: number): Trace {
    const def = reachingDefinition(id);
    if (!def || def.kind === 'param') return UNKNOWN;
    if (def.kind === 'augmented') {
      const left = requiredField(def.statement, 'left');
      const before = this.traceName(left, depth + 1);
      return /^(\/|\*|-|\/\/)=$/.test(def.operator) ? { loader: before.loader, scaled: true } : before;
    }
    if (def.statement.type === 'for_statement' || def.statement.type === 'with_statement') return UNKNOWN;
    const value = unparen(def.value);
    // `images = []` filled by `images.append(img)` in a loop: trace what is appended.
    if (value.type === 'list' && namedChildren(value).length === 0) return this.traceAppends(id, depth);
    return this.trace(value, depth + 1);
  }

  private traceAppends(id: Node, depth: number): Trace {
    const scope = scopeNodeOf(id);
    const appended = callsNamed(scope, `${id.text}.append`)
      .filter((c) => c.startIndex >= scope.startIndex && c.endIndex <= id.startIndex && scopeNodeOf(c).id === scope.id)
      .map((c) => callArguments(c).positional[0])
      .filter((a): a is Node => a !== undefined);
    if (appended.length !== 1) return UNKNOWN;
    return this.trace(appended[0]!, depth + 1);
  }

  /** The loader as a qualified name, for messages. */
  loaderName(loader: Node): string {
    const fn = loader.childForFieldName('function');
    return (fn ? this.qualifiedCallee(fn) : null) ?? loader.text;
  }

  /** The callee's qualified name, also through a module bound to a name (`mnist = tf.keras.datasets.mnist`). */
  private qualifiedCallee(fn: Node): string | null {
    const qualified = this.resolve(fn);
    const object = fn.type === 'attribute' ? fn.childForFieldName('object') : null;
    const attr = fn.childForFieldName('attribute')?.text;
    if (object?.type === 'identifier' && attr && qualified === `${object.text}.${attr}`) {
      const origin = originOf(object, this.resolve);
      if (origin && origin.id !== object.id && (origin.type === 'attribute' || origin.type === 'identifier')) {
        const base = this.resolve(origin);
        if (base) return `${base}.${attr}`;
      }
    }
    return qualified;
  }

  private traceCall(call: Node, depth: number): Trace {
    const fn = call.childForFieldName('function');
    if (!fn) return UNKNOWN;
    const qualified = this.qualifiedCallee(fn);
    if (loaderKind(qualified)) return { loader: call, scaled: false };
    const args = callArguments(call);
    if (qualified === 'tensorflow.data.Dataset.from_tensor_slices' || qualified === 'tensorflow.data.Dataset.from_tensors') {
      // `from_tensor_slices((x, y))`: the features are the first element.
      const first = args.positional[0] ? unparen(args.positional[0]) : null;
      const features = first && (first.type === 'tuple' || first.type === 'list') ? namedChildren(first)[0] : first;
      return features ? this.trace(features, depth + 1) : UNKNOWN;
    }
    if (qualified && PASS_THROUGH_FUNCTIONS.has(qualified)) {
      const first = args.positional[0];
      return first ? this.trace(first, depth + 1) : UNKNOWN;
    }
    if (fn.type !== 'attribute') return qualified && SCALING_CALL.test(qualified) ? { loader: null, scaled: true } : UNKNOWN;
    const method = fn.childForFieldName('attribute')?.text ?? '';
    const receiver = requiredField(fn, 'object');
    if (method === 'flow_from_directory' || method === 'flow' || method === 'flow_from_dataframe') return this.traceGenerator(call, receiver, method, depth);
    if (method === 'map') {
      const mapped = args.positional[0] ?? args.keywords.get('map_func');
      if (mapped && SCALING_TEXT.test(mappedText(mapped, this.resolve))) return { loader: this.trace(receiver, depth + 1).loader, scaled: true };
      return UNKNOWN;
    }
    if (PASS_THROUGH_METHODS.has(method)) {
      // `x.div(255)` is written as a method elsewhere; `astype`/`reshape` keep the scale.
      return this.trace(receiver, depth + 1);
    }
    if (method === 'div' || method === 'div_' || method === 'sub' || method === 'sub_' || method === 'mul') return { loader: this.trace(receiver, depth + 1).loader, scaled: true };
    if (SCALING_CALL.test(method) || (qualified && SCALING_CALL.test(qualified))) return { loader: null, scaled: true };
    return UNKNOWN;
  }

  /** `ImageDataGenerator(rescale=1./255).flow_from_directory(...)` scales; without such options it does not. */
  private traceGenerator(call: Node, receiver: Node, method: string, depth: number): Trace {
    const made = originOf(receiver, this.resolve);
    if (made?.type !== 'call' || !/ImageDataGenerator$/.test(this.resolve(requiredField(made, 'function')) ?? '')) return UNKNOWN;
    const options = callArguments(made);
    if (options.splats.length > 0) return UNKNOWN;
    const scales = GENERATOR_SCALING.some((k) => options.keywords.has(k));
    if (method === 'flow') {
      const x = callArguments(call).positional[0];
      const inner = x ? this.trace(x, depth + 1) : UNKNOWN;
      return { loader: inner.loader, scaled: scales ? true : inner.scaled };
    }
    return { loader: call, scaled: scales };
  }
}

/** The text of a `.map(...)` function: the lambda, or the body of a local function passed by name. */
function mappedText(fn: Node, resolve: Resolve): string {
  if (fn.type === 'identifier') {
    const def = descendantsOfType(fn.tree.rootNode, 'function_definition').find((d) => d.childForFieldName('name')?.text === fn.text);
    if (def) return def.text;
    const origin = originOf(fn, resolve);
    return origin ? origin.text : fn.text;
  }
  return fn.text;
}

function dataSource(file: string, loader: Node, qualified: string, scaled: boolean | null, reaches: Range | null): DataSourceIR {
  return { file, loader: qualified, range: rangeOf(loader), kind: 'image', scaled, reachesTraining: reaches };
}

/** Keras `fit(x, ...)` data and torchvision datasets, attached to the models they train. */
export function findDataSources(file: PyFile, resolver: ModelResolver, table: TrainingSink): void {
  const tracer = new DataTracer(resolver.resolve);
  for (const call of callsWithLastName(file.root, 'fit|fit_generator|train_on_batch')) {
    const fn = call.childForFieldName('function');
    if (fn?.type !== 'attribute') continue;
    const ref = resolver.refOf(requiredField(fn, 'object'));
    if (!ref || ref.kind === 'other') continue;
    const args = callArguments(call);
    const x = args.positional[0] ?? args.keywords.get('x') ?? args.keywords.get('generator');
    if (!x) continue;
    const trace = tracer.trace(x);
    const loader = trace.loader;
    if (!loader) continue;
    const qualified = tracer.loaderName(loader);
    const training = table.get(ref);
    if (training.data.some((d) => d.range.start.line === loader.startPosition.row && d.file === file.path)) continue;
    training.data.push(dataSource(file.path, loader, qualified, trace.scaled, rangeOf(call)));
  }
  torchDatasets(file, resolver, table);
}

const TORCH_IMAGE_DATASET_NAMES = 'MNIST|FashionMNIST|KMNIST|EMNIST|QMNIST|CIFAR10|CIFAR100|SVHN|STL10|ImageFolder|CelebA|Caltech101|Flowers102|Food101|OxfordIIITPet';
const DATASET_NAME = new RegExp(`\\b(${TORCH_IMAGE_DATASET_NAMES})\\b`);
const TORCH_IMAGE_DATASET = new RegExp(`^torchvision\\.datasets\\.(${TORCH_IMAGE_DATASET_NAMES})$`);

function torchDatasets(file: PyFile, resolver: ModelResolver, table: TrainingSink): void {
  // Datasets go to the file's only trained model, and scaling written anywhere in the file counts.
  if (DATASET_NAME.test(file.text)) usedWholeFileFact(file, 'a torchvision dataset');
  const trained = table.all().filter((e) => e.training.loops.length > 0);
  if (trained.length !== 1) return;
  const target = trained[0]!;
  const divides = /(\/\s*255|\.div_?\(\s*255)/.test(file.text);
  for (const call of callsWithLastName(file.root, TORCH_IMAGE_DATASET_NAMES)) {
    const qualified = resolver.resolve(requiredField(call, 'function'));
    if (!qualified || !TORCH_IMAGE_DATASET.test(qualified)) continue;
    const transform = callArguments(call).keywords.get('transform');
    let scaled = transform ? transformScales(transform, resolver.resolve) : null;
    // Pixels divided somewhere in the file (a loop's `x.float() / 255`): the path is not knowable.
    if (scaled === false && divides) scaled = null;
    target.training.data.push(dataSource(file.path, call, qualified, scaled, target.training.loops[0]!.backward));
  }
}

/** Whether a torchvision transform pipeline scales pixels; null when it cannot be read. */
export function transformScales(transform: Node, resolve: Resolve): boolean | null {
  const origin = originOf(transform, resolve);
  if (!origin || origin.type !== 'call') return null;
  const steps = /Compose$/.test(resolve(requiredField(origin, 'function')) ?? '') ? composeSteps(origin) : [origin];
  if (!steps) return null;
  let tensorized = false;
  for (const step of steps) {
    const s = step.type === 'call' ? step : originOf(step, resolve);
    if (s?.type !== 'call') return null;
    const name = (resolve(requiredField(s, 'function')) ?? '').replace(/^.*\./, '');
    if (name === 'ToTensor' || name === 'Normalize' || name === 'ConvertImageDtype') return true;
    if (name === 'ToDtype') {
      const scale = callArguments(s).keywords.get('scale');
      if (scale?.type === 'true') return true;
      continue;
    }
    if (name === 'Lambda') return SCALING_TEXT.test(s.text) ? true : null;
    if (name === 'PILToTensor' || name === 'ToImage' || name === 'ToImageTensor' || name === 'ToPureTensor') tensorized = true;
  }
  return tensorized ? false : null;
}

function composeSteps(compose: Node): readonly Node[] | null {
  const first = callArguments(compose).positional[0];
  const list = first ? unparen(first) : null;
  return list && (list.type === 'list' || list.type === 'tuple') ? namedChildren(list) : null;
}
