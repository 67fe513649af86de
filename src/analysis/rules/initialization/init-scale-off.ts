/**
 * GL203: the kernel's effective std (from the initializer and the layer's fans) is far from the
 * variance-preserving std for the activation acting on the layer. The message gives both numbers.
 */
import type { LayerIR } from '../../../shared/ir';
import type { Finding, Fix } from '../../../shared/findings';
import { assessKernelInit, formatNumber, isConstantInitializer, isWeightLayer, type InitAssessment } from '../../../shared/knowledge';
import type { Rule, RuleMeta } from '../types';
import { feedsLearningLayer } from '../helpers/hidden-layer';
import { layerGraph } from '../helpers/layer-graph';
import { makeFinding } from '../helpers/make-finding';
import { replaceInitializerEdit } from '../helpers/replace-initializer-edit';
import { adviceText, groupByInitSite, initLabel, layerLabel, normalizationFreeSegment, relatedLayers } from './init-sites';

const FACTOR = 'init-scale-factor';
const MIN_DEPTH = 'init-scale-small-min-depth';

const meta: RuleMeta = {
  code: 'GL203',
  name: 'init-scale-off',
  category: 'initialization',
  defaultSeverity: 'warning',
  fixable: 'unsafe',
  summary: 'The weights\' effective std is far (default: more than 3x) above or below the variance-preserving std for the layer\'s activation.',
  options: [
    { key: FACTOR, type: 'number', default: 3, description: 'Report when the weight std is more than this many times above or below the variance-preserving std.' },
    { key: MIN_DEPTH, type: 'number', default: 3, description: 'Too-small weights are reported only in hidden layers with at least this many Dense/convolution layers between normalization layers (too-large weights are always reported).' },
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

It reports weights more than \`${FACTOR}\` times too large (anywhere) or too small (in hidden layers
of a stretch of at least \`${MIN_DEPTH}\` Dense/convolution layers with no normalization layer in
between, where the shrinkage compounds; the next BatchNorm/LayerNorm resets it).
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
- \`${MIN_DEPTH}\` (default 3): minimum number of Dense/convolution layers between normalization layers for too-small weights to count.

## References
- Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks. AISTATS.
- He, Zhang, Ren & Sun (2015), Delving Deep into Rectifiers. ICCV.
- LeCun, Bottou, Orr & Müller (1998), Efficient BackProp.
`,
};

/** Families GL202 owns: a mismatch there is reported as the wrong family, not as a wrong number. */
const GL202_MISMATCHES = new Set(['he-on-saturating', 'nonlinearity-disagrees', 'small-on-relu']);

interface Judged {
  layer: LayerIR;
  assessment: InitAssessment;
  ratio: number;
}

function fans(layer: LayerIR, assessment: InitAssessment): string {
  return assessment.target?.convention === 'glorot' ? `fan_in ${layer.fanIn} and fan_out ${layer.fanOut}` : `fan_in ${layer.fanIn}`;
}

function message(j: Judged, more: number, advice: string | null): string {
  const { layer, assessment, ratio } = j;
  const stats = assessment.stats;
  const scale =
    stats.mean !== null && Math.abs(stats.mean) > 1e-12
      ? `Weight RMS ${formatNumber(stats.rms!)} (mean ${formatNumber(stats.mean)}, std ${formatNumber(stats.std!)})`
      : `Weight std ${formatNumber(stats.std!)}`;
  const compare = ratio > 1 ? `is ${ratio.toFixed(1)}x the` : `is ${(1 / ratio).toFixed(1)}x below the`;
  const target = assessment.target!;
  const effect = ratio > 1 ? 'activations and gradients grow layer after layer (or saturate)' : 'activations and gradients shrink layer after layer';
  const others = more > 0 ? ` (and ${more} more layer${more > 1 ? 's' : ''})` : '';
  return `${scale} of ${layerLabel(layer)}${others} ${compare} variance-preserving ${formatNumber(target.std)} for ${assessment.activation} with ${fans(layer, assessment)} (Var(W) = ${target.varianceFormula}): ${effect}. Initializer: ${initLabel(layer.kernelInit!)}.${advice ? ` Use ${advice}.` : ''}`;
}

export const rule: Rule = {
  meta,
  check(model, context) {
    const factor = context.option<number>(FACTOR);
    const minDepth = context.option<number>(MIN_DEPTH);
    const graph = layerGraph(model);
    const judged: Judged[] = [];
    for (const layer of model.layers) {
      const init = layer.kernelInit;
      if (!isWeightLayer(layer) || !init || !init.explicit || isConstantInitializer(init.name)) continue;
      const assessment = assessKernelInit(layer, init, model);
      const { ratio, deviation, effective } = assessment;
      if (ratio === null || deviation === null || effective.uncertain || effective.normalizedBy) continue;
      if (assessment.activationClass === 'self-normalizing' || assessment.activationClass === 'other') continue;
      if (assessment.mismatch && GL202_MISMATCHES.has(assessment.mismatch)) continue;
      // Decided on the fan_in..fan_out band (either normalization preserves variance); reported
      // against the fan_in value, which is then off by even more than the factor.
      const tooLarge = deviation > factor;
      const tooSmall = deviation < 1 / factor && feedsLearningLayer(graph, layer) && normalizationFreeSegment(graph, layer).filter(isWeightLayer).length >= minDepth;
      if (tooLarge || tooSmall) judged.push({ layer, assessment, ratio });
    }
    const byLayer = new Map(judged.map((j) => [j.layer.id, j]));
    const text = context.sourceText(model.file);
    const findings: Finding[] = [];
    for (const site of groupByInitSite(judged.map((j) => j.layer))) {
      // The worst layer of a shared initializer speaks for the site.
      const worst = site.layers.map((l) => byLayer.get(l.id)!).sort((a, b) => Math.abs(Math.log(b.ratio)) - Math.abs(Math.log(a.ratio)))[0]!;
      const rec = worst.assessment.recommendation;
      const edit = rec && text !== undefined ? replaceInitializerEdit(model.file, text, worst.layer, site.init, rec.spelling) : null;
      const fixes: Fix[] = edit && rec ? [{ title: `Initialize with ${rec.spelling}`, safety: 'unsafe', edits: [edit] }] : [];
      findings.push(
        makeFinding(meta, model, context, {
          message: message(worst, site.layers.length - 1, rec ? adviceText(site.init, rec.spelling, edit) : null),
          range: site.range,
          related: relatedLayers(model, site, (l) => `${layerLabel(l)}: std ${formatNumber(byLayer.get(l.id)!.assessment.stats.rms!)} vs ${formatNumber(byLayer.get(l.id)!.assessment.target!.std)}`),
          fixes,
          whatIf: rec ? { title: `${rec.init.name} instead of ${site.init.name}`, ops: site.layers.map((l) => ({ op: 'set-kernel-init' as const, layerId: l.id, init: byLayer.get(l.id)!.assessment.recommendation?.init ?? rec.init })) } : null,
        }),
      );
    }
    return findings;
  },
};
