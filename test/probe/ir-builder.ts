/**
 * A small typed builder of ModelIRs for probe tests, with the framework defaults the analyzer records
 * (explicit: false initializers), so tests read like the model code they stand for.
 */
import { detailWith, type DetailPatch } from '../../src/shared/layers';
import { emptyTraining, type ActivationName, type Framework, type InitializerIR, type LayerIR, type LayerKind, type LossIR, type ModelIR, type OptimizerIR, type Range } from '../../src/shared/ir';

export function range(line: number): Range {
  return { start: { line, character: 0 }, end: { line, character: 40 } };
}

export function initializer(name: InitializerIR['name'], params: Record<string, number> = {}, framework: Framework = 'keras', options: Record<string, string> = {}): InitializerIR {
  return { name, params, options, spelling: name, range: range(0), explicit: true, framework };
}

export interface LayerSpec {
  kind: LayerKind;
  name?: string;
  units?: number;
  inFeatures?: number;
  kernelSize?: number[];
  activation?: ActivationName;
  activationParams?: Record<string, number>;
  kernelInit?: InitializerIR;
  biasInit?: InitializerIR;
  recurrentInit?: InitializerIR;
  useBias?: boolean;
  /** Weights not trained (requires_grad=False). */
  frozen?: boolean;
  /** The kind's typed fields that differ from its defaults (e.g. `{ rate: 0.5 }`, `{ conv: { padding: 'same' } }`). */
  detail?: DetailPatch;
  /** Graph inputs by layer name. */
  inputs?: string[];
  /** The layer (by name) whose parameters this application reuses. */
  sharesWeightsWith?: string;
  className?: string;
}

export class ModelBuilder {
  private readonly layers: LayerIR[] = [];
  private inputShape: (number | null)[] | null = null;
  private optimizer: OptimizerIR | null = null;
  private losses: LossIR[] = [];
  private graph = false;

  constructor(
    private readonly framework: Framework,
    private readonly name = 'model',
  ) {}

  input(shape: (number | null)[]): this {
    this.inputShape = shape;
    return this;
  }

  asGraph(): this {
    this.graph = true;
    return this;
  }

  /** A loss as compile(loss=...) writes it (Keras' cross-entropies read probabilities); `fromLogits` as a loss object's flag; `output` as a key of loss={...}. */
  withLoss(loss: string, fromLogits: boolean | null = /crossentropy/.test(loss) ? false : null, output: string | null = null): this {
    this.losses = [...this.losses, { name: loss, fromLogits, at: null, onOutput: true, output, appliedFirst: null }];
    return this;
  }

  withOptimizer(name: string, fields: Partial<Pick<OptimizerIR, 'learningRate' | 'momentum' | 'clipnorm' | 'clipvalue' | 'globalClipnorm'>> = {}): this {
    this.optimizer = { name, spelling: name, file: 'model.py', range: range(90), learningRate: null, learningRateRange: null, momentum: null, clipnorm: null, clipvalue: null, globalClipnorm: null, ...fields };
    return this;
  }

  layer(spec: LayerSpec): this {
    const index = this.layers.length;
    const line = index + 2;
    const byName = (n: string) => {
      const found = this.layers.find((l) => l.name === n);
      if (!found) throw new Error(`no layer ${n}`);
      return found.id;
    };
    this.layers.push({
      ...detailWith(spec.kind, spec.detail),
      id: `L${index}`,
      name: spec.name ?? `${spec.kind}_${index}`,
      className: spec.className ?? spec.kind,
      range: range(line),
      unrolled: null,
      units: spec.units ?? null,
      inFeatures: spec.inFeatures ?? null,
      kernelSize: spec.kernelSize ?? null,
      activation: spec.activation ? { name: spec.activation, spelling: spec.activation, range: range(line), source: spec.kind === 'activation' ? 'layer' : 'kwarg', params: spec.activationParams ?? {} } : null,
      kernelInit: spec.kernelInit ?? null,
      biasInit: spec.biasInit ?? null,
      recurrentInit: spec.recurrentInit ?? null,
      useBias: spec.useBias ?? true,
      fanIn: null,
      fanOut: null,
      dataFormat: null,
      timeDistributed: false,
      conditional: false,
      repeated: false,
      frozen: spec.frozen ?? false,
      noGrad: false,
      sharesWeightsWith: spec.sharesWeightsWith ? byName(spec.sharesWeightsWith) : null,
      inputs: spec.inputs ? spec.inputs.map(byName) : index === 0 ? [] : [this.layers[index - 1]!.id],
      argsRange: null,
    });
    return this;
  }

  dense(units: number, activation?: ActivationName, extra: Omit<LayerSpec, 'kind' | 'units' | 'activation'> = {}): this {
    return this.layer({ kind: 'dense', units, activation, ...extra });
  }

  /** n Dense layers of the same width and activation, as a loop would unroll them. */
  denseStack(n: number, units: number, activation: ActivationName, extra: Omit<LayerSpec, 'kind' | 'units' | 'activation'> = {}): this {
    for (let i = 0; i < n; i++) this.dense(units, activation, extra);
    return this;
  }

  build(): ModelIR {
    const training = emptyTraining();
    training.optimizer = this.optimizer;
    training.losses = this.losses;
    return {
      id: `${this.name}@1`,
      name: this.name,
      declaredName: null,
      framework: this.framework,
      style: this.framework === 'keras' ? (this.graph ? 'keras-functional' : 'keras-sequential') : this.graph ? 'torch-module' : 'torch-sequential',
      file: 'model.py',
      range: { start: { line: 0, character: 0 }, end: { line: this.layers.length + 2, character: 0 } },
      nameRange: range(0),
      exports: [this.name],
      inputShape: this.inputShape,
      layers: this.layers,
      isGraph: this.graph,
      training,
      unsupported: [],
    };
  }
}

export const keras = (name?: string) => new ModelBuilder('keras', name);
export const torch = (name?: string) => new ModelBuilder('torch', name);

/**
 * Keras blocks of a 3x3 same-padded Conv2D, BatchNorm and ReLU, a 2x2 max pooling after each group of
 * blocks, then `headLayers` ReLU Dense layers of `headUnits` and a 10-way softmax. Issue 10's CIFAR CNN
 * (bench/probe-cases.ts) is convBlocksNet([32, 32, 3], [[32, 32], [64, 64]], 5, 256).
 */
export function convBlocksNet(input: number[], groups: number[][], headLayers: number, headUnits: number): ModelIR {
  let b = keras().input(input);
  for (const group of groups) {
    for (const filters of group) {
      b = b.layer({ kind: 'conv2d', units: filters, kernelSize: [3, 3], detail: { conv: { padding: 'same' } } }).layer({ kind: 'batchnorm' }).layer({ kind: 'activation', activation: 'relu' });
    }
    b = b.layer({ kind: 'maxpool', kernelSize: [2, 2] });
  }
  return b.layer({ kind: 'flatten' }).denseStack(headLayers, headUnits, 'relu').dense(10, 'softmax').build();
}
