/**
 * GL104: SELU networks only self-normalize under Klambauer et al.'s conditions: LeCun-normal weights
 * (variance 1/fan_in), AlphaDropout instead of Dropout, and no BatchNorm inside the SELU stack.
 */
import type { InitializerIR, LayerIR, ModelIR } from '../../../shared/ir';
import type { Finding, Fix, TextEdit } from '../../../shared/findings';
import type { Rule, RuleContext, RuleMeta } from '../types';
import { appliedActivation, appliesNonlinearity } from '../helpers/applied-activation';
import { editsStayWithin, groupByCall, initEditsStayWithin } from '../helpers/call-key';
import { deleteLayerEdit } from '../helpers/delete-layer-edit';
import { layerGraph, type LayerGraph } from '../helpers/layer-graph';
import { isDropoutLayer, isLearningLayer, isNormalizationLayer, isShapeOnlyLayer } from '../helpers/layer-kinds';
import { layerLabel } from '../helpers/layer-label';
import { makeFinding } from '../helpers/make-finding';
import { replaceInitializerEdit } from '../helpers/replace-initializer-edit';
import { lineStarts, offsetAt, rangeOf } from '../helpers/text-offsets';
import { walkBackward, walkForward } from '../helpers/walk-chain';
import { lecunRecommendation } from '../../../shared/knowledge/activations';
import { initializerStats, isConstantInitializer, kaimingGain } from '../../../shared/knowledge/initializers';
import { effectiveActivation, formatNumber } from '../../../shared/knowledge';
import { modelPrediction, type ModelPrediction } from '../../../shared/knowledge/propagation';
import { predictedSeverity } from '../helpers/prediction-text';

const TOLERANCE = 'selu-init-tolerance';

const meta: RuleMeta = {
  code: 'GL104',
  name: 'selu-without-self-normalization',
  category: 'activation',
  defaultSeverity: 'warning',
  fixable: 'safe',
  summary: 'SELU without its self-normalizing conditions: LeCun-normal init, AlphaDropout, no BatchNorm.',
  options: [
    {
      key: TOLERANCE,
      type: 'number',
      default: 0.25,
      description:
        'Relative deviation of the weight variance from 1/fan_in that is still accepted for explicit normal/uniform initializers (0.25: variance x fan_in within 0.75..1.25).',
    },
  ],
  docs: `## What it does
For networks that use SELU, checks the conditions under which SELU keeps activations at mean 0 and
variance 1 by itself:
- every layer feeding a SELU is initialized with variance 1/fan_in: \`lecun_normal\` in Keras
  (\`lecun_uniform\` and \`VarianceScaling(scale=1, mode="fan_in")\` have the same variance), in PyTorch
  \`nn.init.kaiming_normal_(w, nonlinearity="linear")\` or \`normal_(w, 0, 1/sqrt(fan_in))\`.
  Framework defaults do not qualify: Keras' \`glorot_uniform\` has variance 2/(fan_in+fan_out), which
  equals 1/fan_in only when fan_in = fan_out (such square layers are not reported), and PyTorch's
  \`kaiming_uniform_(a=sqrt(5))\` has variance 1/(3 fan_in). Note that
  \`kaiming_normal_(nonlinearity="selu")\` uses PyTorch's gain of 3/4 and does not give 1/fan_in
  either (PyTorch's documentation recommends \`"linear"\` for self-normalizing networks);
- dropout next to SELU layers is AlphaDropout, not plain Dropout;
- there is no BatchNorm inside the SELU part of the network.

How much it matters depends on the whole model, so the severity comes from the signal-propagation
prediction at initialization (the numbers the hovers, inline hints and probe show), graded with the
probe's thresholds: a **warning** when the first layer is predicted to get less than 1e-3 or more
than 70x the last hidden layer's gradient, an **information** finding quoting the predicted ratio
(and, for an initializer, the SELU layer's predicted output std against the fixed point 1)
otherwise, since the drift away from the fixed point grows with depth and training. When the model
cannot be propagated the finding is a warning judged by the structure alone, and says so.

## Why is this bad?
Klambauer et al. (2017) prove that with SELU's constants (lambda ~ 1.0507, alpha ~ 1.6733) the mean
and variance of the activations are mapped towards a stable fixed point (0, 1) from layer to layer,
which keeps gradients from vanishing or exploding without normalization layers. The proof assumes
weights with mean 0 and variance 1/fan_in; with other scales the fixed point moves and deep SELU
stacks drift. Plain dropout sets units to 0, which is not SELU's resting value (its negative
saturation is -lambda*alpha ~ -1.758), and it rescales the rest: both shift mean and variance. The
paper introduces AlphaDropout for this reason. BatchNorm re-normalizes with batch statistics, which
the self-normalizing analysis does not account for and which SELU makes unnecessary.

## Example
\`\`\`python
model = keras.Sequential([
    layers.Dense(256, activation="selu", input_shape=(100,)),
    layers.Dropout(0.2),
    layers.Dense(256, activation="selu"),
    layers.BatchNormalization(),
    layers.Dense(10, activation="softmax"),
])
\`\`\`

## Use instead
\`\`\`python
model = keras.Sequential([
    layers.Dense(256, activation="selu", kernel_initializer="lecun_normal", input_shape=(100,)),
    layers.AlphaDropout(0.1),
    layers.Dense(256, activation="selu", kernel_initializer="lecun_normal"),
    layers.Dense(10, activation="softmax"),
])
\`\`\`
Inputs should also be standardized (mean 0, variance 1). Fixes: \`kernel_initializer='lecun_normal'\`
in Keras, the \`nn.init\` call rewritten in PyTorch when one is written (safe); Dropout -> AlphaDropout
(unsafe: a different regularizer; the paper uses rates around 0.05-0.1); removing a BatchNorm written
as its own line in call order (unsafe).

## Options
- \`${TOLERANCE}\` (default 0.25): accepted relative deviation of weight variance x fan_in from 1.

## References
- Klambauer, Unterthiner, Mayr & Hochreiter (2017), Self-Normalizing Neural Networks.
- LeCun, Bottou, Orr & Mueller (1998), Efficient BackProp.
- Ioffe & Szegedy (2015), Batch Normalization.
`,
};

/**
 * Weight variance x fan_in (1 for LeCun), or null when it cannot be known. With known fans this is
 * E[w^2] x fan_in from the knowledge base; without them only initializers whose variance is a fixed
 * multiple of 1/fan_in (or, for Glorot, never 1/fan_in unless the layer is square) get a verdict.
 */
function varianceTimesFanIn(init: InitializerIR, fanIn: number | null, fanOut: number | null): number | null {
  const rms = initializerStats(init, fanIn, fanOut).rms;
  if (rms !== null && fanIn !== null && init.name !== 'identity' && !isConstantInitializer(init.name)) return rms * rms * fanIn;
  const mode = init.options['mode'] ?? 'fan_in';
  switch (init.name) {
    case 'lecun_normal':
    case 'lecun_uniform':
      return 1;
    case 'he_normal':
    case 'he_uniform':
      return 2;
    case 'glorot_normal':
    case 'glorot_uniform':
    case 'xavier_normal':
    case 'xavier_uniform':
      // 2/(fan_in+fan_out): 1/fan_in only for a square layer, which unknown fans cannot show.
      return 2 * (init.params['gain'] ?? 1) ** 2;
    case 'kaiming_normal':
    case 'kaiming_uniform': {
      const gain = kaimingGain(init);
      return gain !== null && mode === 'fan_in' ? gain * gain : null;
    }
    case 'variance_scaling':
      return mode === 'fan_in' ? (init.params['scale'] ?? 1) : null;
    default:
      // Absolute scales without a fan, orthogonal, identity, constants (GL201's business), unknown.
      return null;
  }
}

/** Layers between a SELU and what it connects to that neither add a nonlinearity nor learn. */
function passive(layer: LayerIR): boolean {
  return isDropoutLayer(layer) || isShapeOnlyLayer(layer) || isNormalizationLayer(layer) || (layer.kind === 'activation' && appliedActivation(layer) === 'linear');
}

/** Nonlinear activation points and learning layers, the landmarks a walk from a dropout/BN looks for. */
function landmark(layer: LayerIR): boolean {
  return appliesNonlinearity(layer) || !(passive(layer) || isLearningLayer(layer));
}

/** The learning layer whose pre-activation the SELU at `point` squashes, or null. */
function seluInputLayer(graph: LayerGraph, point: LayerIR): LayerIR | null {
  if (isLearningLayer(point)) return point;
  const stop = walkBackward(graph, point, passive);
  return stop && isLearningLayer(stop.layer) && appliedActivation(stop.layer) === 'linear' ? stop.layer : null;
}

/**
 * True when the nearest activation before `layer` is SELU, or, with `preActivation`, when `layer`
 * normalizes the input of a separate SELU activation (Dense -> BN -> Activation('selu')).
 * A dropout/BN before the first SELU layer of a mixed model belongs to the other part.
 */
function inSeluStack(graph: LayerGraph, layer: LayerIR, preActivation: boolean): boolean {
  const isSelu = (l: LayerIR | undefined): boolean => l !== undefined && appliedActivation(l) === 'selu';
  const linearOrPassive = (l: LayerIR): boolean => !landmark(l) || (isLearningLayer(l) && appliedActivation(l) === 'linear');
  if (isSelu(walkBackward(graph, layer, linearOrPassive)?.layer)) return true;
  const next = preActivation ? walkForward(graph, layer, passive)?.layer : undefined;
  return next?.kind === 'activation' && isSelu(next);
}

function initName(init: InitializerIR): string {
  const written = init.explicit ? init.spelling : `${init.name}, the ${init.framework === 'keras' ? 'Keras' : 'PyTorch'} default`;
  return written;
}

/** "predicted output std 0.71 after SELU (its fixed point is 1)", from the prediction of the layer SELU acts on. */
function seluStdText(model: ModelIR, prediction: ModelPrediction, layer: LayerIR): string {
  if (!prediction.ok) return '';
  const applied = effectiveActivation(layer, model).appliedBy ?? layer;
  const own = prediction.layers.find((p) => p.layerId === applied.id);
  return own ? ` Predicted output std ${formatNumber(own.predictedStd)} after SELU (its fixed point is 1).` : '';
}

function initFindings(model: ModelIR, graph: LayerGraph, context: RuleContext, seluPoints: LayerIR[], prediction: ModelPrediction): Finding[] {
  const predicted = predictedSeverity(prediction);
  const tolerance = context.option<number>(TOLERANCE);
  const owners = [...new Set(seluPoints.map((p) => seluInputLayer(graph, p)).filter((l): l is LayerIR => l !== null))];
  const wrong = owners.filter((layer) => {
    if (!layer.kernelInit) return false;
    const ratio = varianceTimesFanIn(layer.kernelInit, layer.fanIn, layer.fanOut);
    return ratio !== null && Math.abs(ratio - 1) > tolerance;
  });
  const text = context.sourceText(model.file);
  return groupByCall(wrong).flatMap((copies) => {
    const layer = copies[0]!;
    const init = layer.kernelInit;
    if (!init) return [];
    const recommended = lecunRecommendation(model.framework);
    const edit =
      text !== undefined && editsStayWithin(model.layers, copies) && initEditsStayWithin(model.layers, copies)
        ? replaceInitializerEdit(model.file, text, layer, init, recommended.spelling)
        : null;
    const fix: Fix | null = edit ? { title: `Use LeCun-normal initialization (${recommended.spelling})`, safety: 'safe', edits: [edit] } : null;
    const lecun = recommended.init;
    const advice = model.framework === 'keras' ? "kernel_initializer='lecun_normal'" : "nn.init.kaiming_normal_(weight, nonlinearity='linear') (variance 1/fan_in)";
    return makeFinding(meta, model, context, {
      message: `SELU layer ${layerLabel(layer)} is initialized with ${initName(init)}; SELU only self-normalizes with LeCun-normal weights (variance 1/fan_in). Use ${advice}.${seluStdText(model, prediction, layer)} ${predicted.note}`,
      severity: predicted.severity,
      // Where the initializer is written for this layer alone (an nn.init call, a kwarg); else the layer.
      range: init.range && initEditsStayWithin(model.layers, copies) ? init.range : layer.range,
      related: init.range ? [{ location: { file: model.file, range: layer.range }, message: `the SELU layer ${layerLabel(layer)}` }] : [],
      fixes: fix ? [fix] : [],
      whatIf: { title: 'LeCun-normal initialization for the SELU layer', ops: copies.map((c) => ({ op: 'set-kernel-init' as const, layerId: c.id, init: lecun })) },
    });
  });
}

/** `layers.Dropout(0.2)` -> `layers.AlphaDropout(0.2)`: only for a module-qualified plain Dropout. */
function alphaDropoutEdit(model: ModelIR, text: string | undefined, layer: LayerIR): TextEdit | null {
  if (text === undefined || !/^[\w.]+\.Dropout$/.test(layer.className)) return null;
  const starts = lineStarts(text);
  const start = offsetAt(starts, layer.range.start);
  if (!text.startsWith(layer.className, start)) return null;
  const nameStart = start + layer.className.length - 'Dropout'.length;
  return { file: model.file, range: rangeOf(starts, nameStart, nameStart), newText: 'Alpha' };
}

function stackFindings(model: ModelIR, graph: LayerGraph, context: RuleContext, prediction: ModelPrediction): Finding[] {
  const text = context.sourceText(model.file);
  const predicted = predictedSeverity(prediction);
  const dropouts = model.layers.filter((l) => l.kind === 'dropout' && inSeluStack(graph, l, false));
  const norms = model.layers.filter((l) => l.kind === 'batchnorm' && inSeluStack(graph, l, true));
  const dropoutFindings = groupByCall(dropouts).map((copies) => {
    const layer = copies[0]!;
    const edit = editsStayWithin(model.layers, copies) ? alphaDropoutEdit(model, text, layer) : null;
    return makeFinding(meta, model, context, {
      message: `Plain ${layerLabel(layer, 'dropout')} in a SELU network: zeroing units (instead of SELU's negative saturation) shifts the mean and variance that SELU keeps at 0 and 1. Use AlphaDropout. ${predicted.note}`,
      severity: predicted.severity,
      range: layer.range,
      fixes: edit ? [{ title: 'Use AlphaDropout', safety: 'unsafe', edits: [edit] }] : [],
      whatIf: { title: 'AlphaDropout instead of Dropout', ops: copies.map((c) => ({ op: 'replace-kind' as const, layerId: c.id, kind: 'alpha-dropout' as const })) },
    });
  });
  const normFindings = groupByCall(norms).map((copies) => {
    const layer = copies[0]!;
    const edit = text !== undefined && editsStayWithin(model.layers, copies) ? deleteLayerEdit(model, text, layer) : null;
    return makeFinding(meta, model, context, {
      message: `${layerLabel(layer, 'BatchNorm')} inside a SELU stack: SELU networks normalize themselves, and batch statistics break the self-normalizing fixed point. Remove it (or use relu/gelu with BatchNorm instead of SELU). ${predicted.note}`,
      severity: predicted.severity,
      range: layer.range,
      fixes: edit ? [{ title: 'Remove the BatchNorm from the SELU stack', safety: 'unsafe', edits: [edit] }] : [],
      whatIf: { title: 'SELU stack without BatchNorm', ops: copies.map((c) => ({ op: 'remove-layer' as const, layerId: c.id })) },
    });
  });
  return [...dropoutFindings, ...normFindings];
}

export const rule: Rule = {
  meta,
  check(model, context) {
    const seluPoints = model.layers.filter((l) => appliedActivation(l) === 'selu');
    if (seluPoints.length === 0) return [];
    const graph = layerGraph(model);
    const prediction = modelPrediction(model);
    return [...initFindings(model, graph, context, seluPoints, prediction), ...stackFindings(model, graph, context, prediction)].sort(
      (a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character,
    );
  },
};
