/**
 * GL101: several hidden sigmoid/tanh-like layers in a row, with nothing that re-normalizes the signal
 * or lets the gradient bypass them. Each one multiplies the backward signal by a derivative below 1.
 */
import type { ActivationName, InitializerIR, LayerIR, ModelIR } from '../../../shared/ir';
import type { Fix, IrEditOp, Severity, TextEdit } from '../../../shared/findings';
import type { Rule, RuleContext, RuleMeta } from '../types';
import { appliedActivation } from '../helpers/applied-activation';
import { editsStayWithin, initEditsStayWithin, rangeKey } from '../helpers/call-key';
import { feedsLearningLayer } from '../helpers/hidden-layer';
import { layerGraph, type LayerGraph } from '../helpers/layer-graph';
import { isDropoutLayer, isLearningLayer, isShapeOnlyLayer } from '../helpers/layer-kinds';
import { makeFinding } from '../helpers/make-finding';
import { replaceActivationWithReluEdit } from '../helpers/replace-activation-edit';
import { replaceInitializerEdit } from '../helpers/replace-initializer-edit';
import { walkBackward } from '../helpers/walk-chain';
import { heRecommendation } from '../../../shared/knowledge/activations';
import { familyTitle, initFamily } from '../../../shared/knowledge/initializers';
import { modelPrediction, type ModelPrediction, type PropagatedModel } from '../../../shared/knowledge/propagation';
import { firstLastText, noPredictionNote } from '../helpers/prediction-text';
import { FLOW_THRESHOLDS } from '../../../shared/gradient-flow';

const SATURATING: ReadonlySet<ActivationName> = new Set(['sigmoid', 'tanh', 'hard_sigmoid', 'softsign']);
const STACK_LENGTH = 'saturating-stack-length';

const meta: RuleMeta = {
  code: 'GL101',
  name: 'saturating-activation-stack',
  category: 'activation',
  defaultSeverity: 'warning',
  fixable: 'unsafe',
  summary: 'Several hidden sigmoid/tanh layers in a row with no normalization or skip connection: gradients vanish.',
  options: [
    {
      key: STACK_LENGTH,
      type: 'number',
      default: 3,
      description: 'How many consecutive hidden saturating layers (sigmoid, tanh, hard_sigmoid, softsign) make a stack.',
    },
  ],
  docs: `## What it does
Finds runs of hidden layers whose activation saturates (sigmoid, tanh, hard_sigmoid, softsign) that
follow each other directly: no batch/layer normalization and no residual (skip) connection between
them. The output layer is not counted, so a sigmoid or softmax output is fine. The gated tanh/sigmoid
inside LSTM and GRU cells are not counted either: the gates and the additive cell state are designed
around them.

How bad a stack is depends on its weights, so the rule asks the signal-propagation model (the
mean-field recursions of Poole et al. 2016 / Schoenholz et al. 2017 over the whole model, the same
numbers the hovers, the inline hints and the probe show) how much of the last hidden layer's gradient
the first layer gets at initialization, and grades it with the probe's thresholds:
- below 1e-3: a **warning** (vanishing), with the predicted ratio;
- otherwise an **information** finding saying the stack is predicted attenuated (below 0.1) or
  healthy at initialization, since saturating stacks still degrade as the weights grow;
- a stack whose gradients are predicted to **explode** (e.g. tanh with N(0, 1) weights) is not
  reported here: that is a weight-scale problem (GL203).

When the model cannot be propagated (a size or an initializer is unknown) the finding is a warning
judged by the structure alone, and says so.

## Why is this bad?
Backpropagation multiplies the gradient by the activation's derivative once per layer. The sigmoid's
derivative is at most 0.25 (at 0), tanh's at most 1 and much smaller as soon as the unit leaves the
region around 0; hard_sigmoid is flat outside its linear band, and softsign's derivative also decays
with |x|. With several such layers in a row the product shrinks geometrically, so the first layers
barely learn (vanishing gradients). Glorot & Bengio (2010) observed exactly this with deep sigmoid
networks: the top hidden layer saturates early and the lower layers receive tiny gradients.
Normalization between the layers keeps pre-activations in the responsive range, and a skip
connection gives the gradient a path that bypasses the derivatives; without either, the stack is
hard to train.

## Example
\`\`\`python
model = keras.Sequential([
    layers.Dense(256, activation="sigmoid", input_shape=(784,)),
    layers.Dense(128, activation="sigmoid"),
    layers.Dense(64, activation="sigmoid"),
    layers.Dense(10, activation="softmax"),
])
\`\`\`

## Use instead
ReLU-family activations, which do not saturate for positive inputs, with He initialization
(He et al. 2015), or keep tanh but put normalization between the layers:
\`\`\`python
model = keras.Sequential([
    layers.Dense(256, activation="relu", kernel_initializer="he_normal", input_shape=(784,)),
    layers.Dense(128, activation="relu", kernel_initializer="he_normal"),
    layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
    layers.Dense(10, activation="softmax"),
])
\`\`\`
The fix offered is unsafe: it changes the model (activation and, for Keras, the initializer). In
PyTorch it swaps the activations; add \`nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")\`
yourself for He scaling.

## Options
- \`${STACK_LENGTH}\` (default 3, at least 2): how many consecutive hidden saturating layers are reported.

## References
- Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks.
- He, Zhang, Ren & Sun (2015), Delving Deep into Rectifiers.
- Pascanu, Mikolov & Bengio (2013), On the difficulty of training recurrent neural networks.
- Ioffe & Szegedy (2015), Batch Normalization.
- Schoenholz, Gilmer, Ganguli & Sohl-Dickstein (2017), Deep Information Propagation.
`,
};

/** A hidden saturating activation and the learning layer whose output it squashes (null when unknown). */
interface StackEntry {
  point: LayerIR;
  owner: LayerIR | null;
}

/** Layers the gradient crosses without extra saturation or rescue: linear learning layers, dropout, reshapes. */
function transparent(layer: LayerIR): boolean {
  if (isDropoutLayer(layer) || isShapeOnlyLayer(layer)) return true;
  const name = appliedActivation(layer);
  return name === 'linear';
}

/** The learning layer that feeds an activation: itself when fused, else the nearest linear one before it. */
function ownerOf(graph: LayerGraph, point: LayerIR): LayerIR | null {
  if (isLearningLayer(point)) return point;
  const previous = graph.solePredecessor(point);
  return previous && isLearningLayer(previous) && appliedActivation(previous) === 'linear' ? previous : null;
}

/** The saturating activation right before `point` in the same stack, or null when the stack starts here. */
function previousPoint(graph: LayerGraph, point: LayerIR, isPoint: (l: LayerIR) => boolean): LayerIR | null {
  // A layer that also feeds another output head is still next to this one: only a branch that rejoins is a skip connection.
  const stop = walkBackward(graph, point, transparent, 'crosses-heads');
  return stop && isPoint(stop.layer) ? stop.layer : null;
}

function stacksOf(model: ModelIR, minimum: number): StackEntry[][] {
  const saturating = model.layers.filter((l) => SATURATING.has(appliedActivation(l) ?? 'linear'));
  if (saturating.length < minimum) return [];
  const graph = layerGraph(model);
  const hiddenPoints = saturating.filter((l) => feedsLearningLayer(graph, l));
  const isPoint = (l: LayerIR): boolean => hiddenPoints.includes(l);
  const previous = new Map(hiddenPoints.map((p) => [p.id, previousPoint(graph, p, isPoint)]));
  const hasNext = new Set([...previous.values()].filter((p): p is LayerIR => p !== null).map((p) => p.id));
  const stacks: StackEntry[][] = [];
  for (const last of hiddenPoints) {
    if (hasNext.has(last.id)) continue;
    const chain: LayerIR[] = [];
    for (let p: LayerIR | null = last; p; p = previous.get(p.id) ?? null) chain.unshift(p);
    if (chain.length >= minimum) stacks.push(chain.map((point) => ({ point, owner: ownerOf(graph, point) })));
  }
  return stacks;
}

/** He initialization in the model's framework (the knowledge base's recommendation for relu). */
function heInit(model: ModelIR): Pick<InitializerIR, 'name' | 'params' | 'options'> {
  return heRecommendation(model.framework).init;
}

function whatIfOps(model: ModelIR, stack: StackEntry[]): IrEditOp[] {
  const ops: IrEditOp[] = [];
  for (const { point, owner } of stack) {
    ops.push({ op: 'set-activation', layerId: point.id, activation: 'relu' });
    if (owner) ops.push({ op: 'set-kernel-init', layerId: owner.id, init: heInit(model) });
  }
  return ops;
}

/** Text edits for every distinct call of the stack; null when any activation cannot be rewritten. */
function reluFix(model: ModelIR, stack: StackEntry[], context: RuleContext): Fix | null {
  const text = context.sourceText(model.file);
  const touched = stack.flatMap((e) => (e.owner ? [e.point, e.owner] : [e.point]));
  const owners = stack.flatMap((e) => (e.owner ? [e.owner] : []));
  if (text === undefined || !editsStayWithin(model.layers, touched)) return null;
  // An initializer written once for every layer (an `apply` function) also initializes layers outside the stack.
  const initsEditable = initEditsStayWithin(model.layers, owners);
  const he = heRecommendation(model.framework).spelling;
  let initialized = false;
  const edits = new Map<string, TextEdit>();
  for (const { point, owner } of stack) {
    if (!point.activation) return null;
    const activationEdit = replaceActivationWithReluEdit(model.file, text, point.activation);
    if (!activationEdit) return null;
    edits.set(rangeKey(activationEdit.range), activationEdit);
    // Keras: add or replace kernel_initializer; PyTorch: rewrite an nn.init call when one is written.
    const initEdit = owner?.kernelInit && initsEditable ? replaceInitializerEdit(model.file, text, owner, owner.kernelInit, he) : null;
    if (initEdit) {
      edits.set(rangeKey(initEdit.range), initEdit);
      initialized = true;
    }
  }
  const title = initialized ? 'Use relu with He initialization' : 'Use relu instead of the saturating activations';
  return { title, safety: 'unsafe', edits: [...edits.values()] };
}

/** What each saturating activation does to the gradient, for the message. */
function derivativeNote(names: string[]): string {
  const notes = names.map((n) => (n === 'sigmoid' ? 'sigmoid: at most 0.25' : n === 'hard_sigmoid' ? 'hard_sigmoid: at most 0.2' : `${n}: 1 at 0, less as soon as units leave 0`));
  return notes.join('; ');
}

/** A first layer getting more than 1/attenuatedRatio (10x) the last hidden layer's gradient: growing, not vanishing. */
const FLOW_GROWING_LOG10 = -Math.log10(FLOW_THRESHOLDS.attenuatedRatio);

const NAMED_FAMILIES: ReadonlySet<string> = new Set(['glorot', 'he', 'lecun', 'torch-default', 'orthogonal']);

/** The init family of the stack's weights, for "predicted healthy at initialization with Glorot". */
function initName(stack: StackEntry[]): string {
  const families = [...new Set(stack.map((e) => (e.owner?.kernelInit ? initFamily(e.owner.kernelInit) : 'unknown')))];
  const family = families.length === 1 ? families[0]! : 'unknown';
  return NAMED_FAMILIES.has(family) ? ` with ${familyTitle(family)}` : '';
}

/**
 * log10 of the gradient the stack's first layer gets over its last layer's, as predicted; null when
 * either is not known. Growth is judged along the stack itself: in a model with two outputs the
 * model's first/last ratio compares layers of different branches (a regression head's tanh stack
 * against the decoder's last layer).
 */
function stackGrowth(stack: StackEntry[], prediction: PropagatedModel): number | null {
  const first = stack[0]?.owner;
  const last = stack[stack.length - 1]?.owner;
  if (!first || !last || first === last) return null;
  const byId = new Map(prediction.layers.map((l) => [l.layerId, l.log10GradRatio]));
  const a = byId.get(first.id);
  const b = byId.get(last.id);
  return a === undefined || a === null || b === undefined || b === null ? null : a - b;
}

interface Judgement {
  message: string;
  severity: Severity | undefined;
}

function judge(stack: StackEntry[], prediction: ModelPrediction): Judgement | null {
  const names = [...new Set(stack.map((e) => appliedActivation(e.point) ?? 'unknown'))];
  const what = names.length === 1 ? names[0]! : `saturating (${names.join(', ')})`;
  const head = `${stack.length} consecutive hidden ${what} layers with no normalization or skip connection between them`;
  const advice = 'Consider relu with He initialization, or normalization between the layers.';
  const flow = prediction.ok ? firstLastText(prediction) : null;
  if (!prediction.ok || flow === null || prediction.grade === null || prediction.log10FirstLastRatio === null) {
    return {
      message: `${head}: each multiplies the gradient by a derivative below 1 (${derivativeNote(names)}), so the first layers barely learn (vanishing gradients). ${advice} ${noPredictionNote(prediction)}`,
      severity: undefined,
    };
  }
  // Gradients growing towards the input (too-large weights, e.g. tanh at N(0, 1)) are a scale
  // problem GL203 reports, not vanishing.
  if (prediction.grade === 'exploding' || (stackGrowth(stack, prediction) ?? prediction.log10FirstLastRatio) > FLOW_GROWING_LOG10) return null;
  switch (prediction.grade) {
    case 'vanishing':
      return { message: `${head}: predicted: ${flow} (vanishing: each layer multiplies the gradient by a derivative below 1; ${derivativeNote(names)}). ${advice}`, severity: 'warning' };
    case 'attenuated':
      return {
        message: `${head}: predicted attenuated at initialization${initName(stack)}: ${flow}, so the first layers learn slower; ${what} stacks saturate further as weights grow. ${advice}`,
        severity: 'information',
      };
    default:
      return {
        message: `${head}: predicted healthy at initialization${initName(stack)}: ${flow}; ${what} stacks saturate as weights grow, where gradients vanish. ${advice}`,
        severity: 'information',
      };
  }
}

/**
 * The stacks grouped by the layer objects they apply: a shared trunk applied to two inputs (a siamese
 * network) gives two stacks of the same layers, one finding, whose what-if changes both.
 */
function byLayerObjects(stacks: StackEntry[][]): StackEntry[][][] {
  const groups = new Map<string, StackEntry[][]>();
  for (const stack of stacks) {
    const key = stack.map((e) => (e.owner ? (e.owner.sharesWeightsWith ?? e.owner.id) : rangeKey(e.point.range))).join(' ');
    groups.set(key, [...(groups.get(key) ?? []), stack]);
  }
  return [...groups.values()];
}

export const rule: Rule = {
  meta,
  check(model, context) {
    const minimum = Math.max(2, Math.floor(context.option<number>(STACK_LENGTH)));
    const prediction = modelPrediction(model);
    return byLayerObjects(stacksOf(model, minimum)).flatMap((group) => {
      const stack = group[0]!;
      const judgement = judge(stack, prediction);
      if (!judgement) return [];
      const seen = new Set<string>();
      const related = stack
        .filter((e) => !seen.has(rangeKey(e.point.range)) && seen.add(rangeKey(e.point.range)))
        .map((e, i) => ({
          location: { file: model.file, range: e.point.range },
          message: `${appliedActivation(e.point)} layer ${i + 1} of the stack`,
        }));
      const fix = reluFix(model, stack, context);
      return makeFinding(meta, model, context, {
        message: judgement.message,
        severity: judgement.severity,
        range: stack[0]!.point.range,
        related,
        fixes: fix ? [fix] : [],
        whatIf: { title: 'relu + He initialization instead of the saturating stack', ops: group.flatMap((applied) => whatIfOps(model, applied)) },
      });
    });
  },
};
