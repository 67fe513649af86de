/**
 * GL203: the kernel's effective std (from the initializer and the layer's fans) is far from the
 * variance-preserving std for the activation acting on the layer. The message gives both numbers.
 */
import type { InitializerIR, LayerIR } from '../../../shared/ir';
import type { TargetStd } from '../../../shared/knowledge/activations';
import type { Finding, Fix } from '../../../shared/findings';
import { assessKernelInit, effectiveActivation, formatNumber, isConstantInitializer, isWeightLayer, modelPrediction, type InitAssessment, type ModelPrediction, type PropagatedModel } from '../../../shared/knowledge';
import type { ModelIR } from '../../../shared/ir';
import { firstLastText } from '../helpers/prediction-text';
import type { Rule, RuleMeta } from '../types';
import { feedsLearningLayer } from '../helpers/hidden-layer';
import { layerGraph, type LayerGraph } from '../helpers/layer-graph';
import { makeFinding } from '../helpers/make-finding';
import { replaceInitializerEdit } from '../helpers/replace-initializer-edit';
import { adviceText, deepestChain, groupByInitSite, initLabel, layerLabel, normalizationFreeSegment, relatedLayers } from './init-sites';

const FACTOR = 'init-scale-factor';
const COMPOUND = 'init-scale-small-compound';

const meta: RuleMeta = {
  code: 'GL203',
  name: 'init-scale-off',
  category: 'initialization',
  defaultSeverity: 'warning',
  fixable: 'unsafe',
  summary: 'The weights\' effective std is far (default: more than 3x) above or below the variance-preserving std for the layer\'s activation.',
  options: [
    { key: FACTOR, type: 'number', default: 3, description: 'Report when the weight std is more than this many times above or below the variance-preserving std.' },
    { key: COMPOUND, type: 'number', default: 1000, description: 'Too-small weights are reported only when the signal\'s std, compounded over the hidden layers of their normalization-free stretch, is predicted to shrink by at least this factor (too-large weights are always reported).' },
  ],
  docs: `## What it does
For every Dense/Linear/convolution layer with an explicitly written kernel initializer, computes
the effective std of its weights from the initializer and the layer's fan_in/fan_out (Keras'
truncated normals included: \`he_normal\`'s effective std is exactly sqrt(2/fan_in); PyTorch's
\`normal_(w, 0, 1)\` is N(0, 1); a non-zero mean counts, since E[w²] = mean² + std²) and compares it
with the variance-preserving std for the activation acting on the layer:

| activation | variance-preserving Var(W) | from |
|---|---|---|
| ReLU, leaky ReLU (slope α), PReLU, ELU, GELU, swish, mish, softplus | 2 / ((1 + α²) · fan_in) | He et al. 2015 |
| tanh, softsign, sigmoid, hard sigmoid, softmax, none (linear) | 2 / (fan_in + fan_out) | Glorot & Bengio 2010 |

He et al. show that normalizing by fan_out instead of fan_in (PyTorch's \`mode='fan_out'\`, the
classic \`normal_(0, sqrt(2 / (k·k·out_channels)))\` of VGG/ResNet code) preserves the backward
signal just as well, so any std between the fan_in and the fan_out version counts as right; the
message quotes the fan_in value.

It reports weights more than \`${FACTOR}\` times too large (anywhere; an output layer, whose
gradient does not flow on, against the larger of that std and sqrt(1/fan_in), so a narrow fan_out
excuses nothing: N(0, 1) on a 256 -> 1 head is 11x Glorot's std) or too
small, when the shrinkage compounds: over the deepest run of hidden layers of the layer's
normalization-free stretch (the next BatchNorm/LayerNorm resets it; a residual sum passes on its
least-shrunk operand, so residual branches do not compound across blocks, nor parallel branches add
depth) the signal's std is predicted to shrink by at least
\`${COMPOUND}\` (default 1e3). The shrinkage comes from the signal-propagation model (mean-field
recursions over fans, initializer variances and activations: the numbers hovers and inline hints
show); when the model cannot be propagated, from the product of the layers' std ratios. Two hidden
layers at N(0, 0.05) are not a finding; eight ReLU layers at U(-0.05, 0.05) are. Messages carry the
predicted activation std and, when the prediction says gradients explode, the predicted ratio.
Typical hits: \`RandomNormal(stddev=1.0)\`, \`nn.init.normal_(w, 0, 1)\`, \`w.data.uniform_(-1, 1)\`,
\`VarianceScaling(scale=50)\`, \`normal_(w, 0, 0.001)\` in a deep stack.

Not reported: framework defaults, layers whose size is unknown, unresolved initializers,
constant initializers (GL201), layers followed by BatchNorm/LayerNorm (which undo any weight
scale), SELU layers (GL104) and initializers of the wrong family (GL202).

## Why is this bad?
Each layer multiplies the variance of the signal by fan_in · Var(W) (times the activation's
effect). Variance-preserving initializations make that factor 1 (Glorot & Bengio 2010; He et al.
2015); a std k times too large multiplies the signal by about k per layer — activations and
gradients explode, or saturating units (sigmoid, tanh) get stuck where their derivative is ~0 —
and a std k times too small shrinks them by k per layer until the gradients that reach the first
layers vanish. A fixed std such as 1.0 or 0.01 is right for only one fan_in: N(0, 1) weights on
784 inputs give pre-activations with std ≈ 28.

## Example
\`\`\`python
layers.Dense(256, activation="relu", kernel_initializer=initializers.RandomNormal(stddev=1.0))
\`\`\`
\`\`\`python
nn.init.normal_(self.fc1.weight, mean=0.0, std=1.0)
\`\`\`

## Use instead
\`\`\`python
layers.Dense(256, activation="relu", kernel_initializer="he_normal")
\`\`\`
\`\`\`python
nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="relu")
\`\`\`
The fix replaces the initializer with the variance-preserving one for the activation. It is
unsafe: it replaces a number that was written on purpose.

## Options
- \`${FACTOR}\` (default 3): the tolerated factor above or below the variance-preserving std.
- \`${COMPOUND}\` (default 1000): the compounded std shrink over a normalization-free stretch from which too-small weights are reported.

## References
- Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks. AISTATS.
- He, Zhang, Ren & Sun (2015), Delving Deep into Rectifiers. ICCV.
- LeCun, Bottou, Orr & Müller (1998), Efficient BackProp.
- Poole, Lahiri, Raghu, Sohl-Dickstein & Ganguli (2016), Exponential expressivity in deep neural networks through transient chaos.
`,
};

/** Families GL202 owns: a mismatch there is reported as the wrong family, not as a wrong number. */
const GL202_MISMATCHES = new Set(['he-on-saturating', 'nonlinearity-disagrees', 'small-on-relu']);

/** A layer whose scale is known: its initializer's weight RMS and std, and the variance-preserving target. */
interface Scaled {
  layer: LayerIR;
  init: InitializerIR;
  assessment: InitAssessment;
  rms: number;
  std: number;
  target: TargetStd;
}

interface Judged extends Scaled {
  ratio: number;
  /** Judged as the output layer: against fan_in alone. */
  outputLayer: boolean;
  /** Compounded std shrink over the stretch (too-small weights only). */
  shrink: number | null;
  stretch: number;
  shrinkPredicted: boolean;
}

function fans(layer: LayerIR, target: TargetStd): string {
  return target.convention === 'glorot' ? `fan_in ${layer.fanIn} and fan_out ${layer.fanOut}` : `fan_in ${layer.fanIn}`;
}

function message(j: Judged, more: number, advice: string | null, prediction: ModelPrediction): string {
  const { layer, assessment, ratio, target } = j;
  const mean = assessment.stats.mean;
  const scale =
    mean !== null && Math.abs(mean) > 1e-12
      ? `Weight RMS ${formatNumber(j.rms)} (mean ${formatNumber(mean)}, std ${formatNumber(j.std)})`
      : `Weight std ${formatNumber(j.std)}`;
  const compare = ratio > 1 ? `is ${ratio.toFixed(1)}x the` : `is ${(1 / ratio).toFixed(1)}x below the`;
  const fanText = j.outputLayer ? `${fans(layer, target)}, as the output layer` : fans(layer, target);
  const others = more > 0 ? ` (and ${more} more layer${more > 1 ? 's' : ''})` : '';
  const targetStd = j.outputLayer ? outputStd(layer, target) : target.std;
  return `${scale} of ${layerLabel(layer)}${others} ${compare} variance-preserving ${formatNumber(targetStd)} for ${assessment.activation} with ${fanText} (Var(W) = ${j.outputLayer && targetStd !== target.std ? '1 / fan_in' : target.varianceFormula}): ${effectText(j, prediction)}. Initializer: ${initLabel(j.init)}.${advice ? ` Use ${advice}.` : ''}`;
}

/** What the scale does, with the predicted numbers when the model can be propagated. */
function effectText(j: Judged, prediction: ModelPrediction): string {
  if (j.ratio < 1) {
    const shrink = j.shrink !== null ? `; over ${j.stretch} hidden layer${j.stretch > 1 ? 's' : ''} without normalization the signal's std shrinks ~${formatShrink(j.shrink)}x${j.shrinkPredicted ? ' (predicted)' : ''}` : '';
    return `activations and gradients shrink layer after layer${shrink}`;
  }
  const base = 'activations and gradients grow layer after layer (or saturate)';
  if (!prediction.ok) return base;
  const own = prediction.layers.find((l) => l.layerId === j.layer.id);
  const std = own ? `; predicted output std ${formatNumber(own.predictedStd)}${j.assessment.activation !== 'linear' ? ` after ${j.assessment.activation}` : ''}` : '';
  const flow = prediction.grade === 'exploding' ? `; predicted exploding gradients: ${firstLastText(prediction)}` : '';
  return `${base}${std}${flow}`;
}

/** The std an output layer is judged against: max(target std, sqrt(1 / fan_in)). */
function outputStd(layer: LayerIR, target: TargetStd): number {
  return layer.fanIn ? Math.max(target.std, Math.sqrt(1 / layer.fanIn)) : target.std;
}

function formatShrink(value: number): string {
  return value >= 1e4 ? value.toExponential(0).replace('+', '') : String(Math.round(value));
}

/**
 * How much the signal's std shrinks over the deepest run of hidden weight layers of `layer`'s
 * normalization-free stretch (deepestChain): from the prediction (input second moment of the first over output second moment of the
 * last), else the product of the layers' std ratios. Null when neither is known.
 */
function compoundedShrink(layer: LayerIR, graph: LayerGraph, model: ModelIR, prediction: ModelPrediction, ratioOf: (l: LayerIR) => number | null): { shrink: number; stretch: number; predicted: boolean } | null {
  const ordered = deepestChain(graph, normalizationFreeSegment(graph, layer), (l) => isWeightLayer(l) && feedsLearningLayer(graph, l));
  if (ordered.length === 0) return null;
  if (prediction.ok) {
    const first = prediction.layers.find((p) => p.layerId === ordered[0]!.id);
    const last = prediction.layers.find((p) => p.layerId === ordered[ordered.length - 1]!.id);
    // The output of the last hidden layer after its activation (an Activation layer may follow it).
    const lastOut = last ? effectiveOutput(prediction, model, ordered[ordered.length - 1]!) : null;
    if (first && lastOut !== null && first.qIn > 0 && lastOut > 0) return { shrink: Math.sqrt(first.qIn / lastOut), stretch: ordered.length, predicted: true };
  }
  const ratios = ordered.map(ratioOf);
  if (ratios.some((r) => r === null || !(r > 0))) return null;
  return { shrink: 1 / (ratios as number[]).reduce((p, r) => p * r, 1), stretch: ordered.length, predicted: false };
}

/** q after the activation acting on `layer` (its own, or a following Activation layer's). */
function effectiveOutput(prediction: PropagatedModel, model: ModelIR, layer: LayerIR): number | null {
  const applied = effectiveActivation(layer, model).appliedBy ?? layer;
  return prediction.layers.find((p) => p.layerId === applied.id)?.q ?? null;
}

export const rule: Rule = {
  meta,
  check(model, context) {
    const factor = context.option<number>(FACTOR);
    const compound = context.option<number>(COMPOUND);
    const graph = layerGraph(model);
    const prediction = modelPrediction(model);
    const candidates: (Scaled & { ratio: number; deviation: number; output: boolean })[] = [];
    for (const layer of model.layers) {
      const init = layer.kernelInit;
      if (!isWeightLayer(layer) || !init || !init.explicit || isConstantInitializer(init.name)) continue;
      const assessment = assessKernelInit(layer, init, model);
      const { ratio, deviation, effective, target } = assessment;
      const { rms, std } = assessment.stats;
      if (ratio === null || deviation === null || rms === null || std === null || target === null || effective.uncertain || effective.normalizedBy) continue;
      if (assessment.activationClass === 'self-normalizing' || assessment.activationClass === 'other') continue;
      if (assessment.mismatch && GL202_MISMATCHES.has(assessment.mismatch)) continue;
      const output = !feedsLearningLayer(graph, layer);
      // An output layer's gradient goes nowhere further, so a small fan_out does not excuse large
      // weights: judged against the larger of Glorot's std and the forward (fan_in) one.
      const forward = output && layer.fanIn ? rms / outputStd(layer, target) : null;
      candidates.push({ layer, init, assessment, rms, std, target, ratio: forward ?? ratio, deviation: forward !== null ? Math.max(forward, deviation) : deviation, output });
    }
    const ratioOf = (l: LayerIR): number | null => {
      const c = candidates.find((x) => x.layer.id === l.id);
      if (c) return c.ratio;
      const init = l.kernelInit;
      return init ? assessKernelInit(l, init, model).ratio : null;
    };
    const judged: Judged[] = [];
    for (const c of candidates) {
      // Decided on the fan_in..fan_out band (either normalization preserves variance); reported
      // against the fan_in value, which is then off by even more than the factor.
      if (c.deviation > factor) {
        judged.push({ ...c, outputLayer: c.output, shrink: null, stretch: 0, shrinkPredicted: false });
        continue;
      }
      if (!(c.deviation < 1 / factor) || c.output) continue;
      const compounded = compoundedShrink(c.layer, graph, model, prediction, ratioOf);
      if (compounded && compounded.shrink >= compound) {
        judged.push({ ...c, outputLayer: false, shrink: compounded.shrink, stretch: compounded.stretch, shrinkPredicted: compounded.predicted });
      }
    }
    const byLayer = new Map(judged.map((j) => [j.layer.id, j]));
    const text = context.sourceText(model.file);
    const findings: Finding[] = [];
    for (const site of groupByInitSite(judged.map((j) => j.layer))) {
      // The worst layer of a shared initializer speaks for the site.
      const [worst] = site.layers
        .flatMap((l) => byLayer.get(l.id) ?? [])
        .sort((a, b) => Math.abs(Math.log(b.ratio)) - Math.abs(Math.log(a.ratio)));
      if (worst === undefined) continue;
      const rec = worst.assessment.recommendation;
      const edit = rec && text !== undefined ? replaceInitializerEdit(model.file, text, worst.layer, site.init, rec.spelling) : null;
      const fixes: Fix[] = edit && rec ? [{ title: `Initialize with ${rec.spelling}`, safety: 'unsafe', edits: [edit] }] : [];
      findings.push(
        makeFinding(meta, model, context, {
          message: message(worst, site.layers.length - 1, rec ? adviceText(site.init, rec.spelling, edit) : null, prediction),
          range: site.range,
          related: relatedLayers(model, site, (l) => {
            const j = byLayer.get(l.id);
            return j ? `${layerLabel(l)}: std ${formatNumber(j.rms)} vs ${formatNumber(j.target.std)}` : layerLabel(l);
          }),
          fixes,
          whatIf: rec ? { title: `${rec.init.name} instead of ${site.init.name}`, ops: site.layers.map((l) => ({ op: 'set-kernel-init' as const, layerId: l.id, init: byLayer.get(l.id)?.assessment.recommendation?.init ?? rec.init })) } : null,
        }),
      );
    }
    return findings;
  },
};
