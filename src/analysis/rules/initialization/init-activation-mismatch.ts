/**
 * GL202: the initializer's variance convention was derived for another kind of activation than the
 * one that acts on the layer: He/Kaiming on sigmoid/tanh, Glorot/Xavier (or LeCun) in deep ReLU
 * stacks, PyTorch `kaiming_*(nonlinearity=...)` written for a different activation.
 */
import { isRecurrent } from '../../../shared/layers';
import type { ActivationName, InitializerIR, LayerIR, ModelIR } from '../../../shared/ir';
import type { Finding, Fix, IrEditOp, RelatedInfo, TextEdit } from '../../../shared/findings';
import { activationClass, assessKernelInit, familyTitle, formatNumber, initFamily, isWeightLayer, type InitAssessment } from '../../../shared/knowledge';
import type { Rule, RuleContext, RuleMeta } from '../types';
import { feedsLearningLayer } from '../helpers/hidden-layer';
import { layerGraph } from '../helpers/layer-graph';
import { makeFinding } from '../helpers/make-finding';
import { kaimingNonlinearityEdit, replaceInitializerEdit } from '../helpers/replace-initializer-edit';
import { rangeKey } from '../helpers/call-key';
import { predictedSeverity, type PredictedSeverity } from '../helpers/prediction-text';
import { modelPrediction } from '../../../shared/knowledge/propagation';
import { adviceText, deepestChain, feedsMerge, groupByInitSite, initLabel, layerLabel, normalizationFreeSegments, relatedLayers, type InitSite } from './init-sites';

const JUDGE_DEFAULTS = 'judge-default-init';
const RELU_DEPTH = 'glorot-relu-min-depth';

const meta: RuleMeta = {
  code: 'GL202',
  name: 'init-activation-mismatch',
  category: 'initialization',
  defaultSeverity: 'warning',
  fixable: 'safe',
  summary: 'The kernel initializer was designed for another activation (He on tanh/sigmoid, Glorot in deep ReLU stacks, kaiming nonlinearity= mismatch).',
  options: [
    { key: JUDGE_DEFAULTS, type: 'boolean', default: false, description: "Also judge framework defaults the user did not write (Keras' glorot_uniform, PyTorch's kaiming_uniform_(a=sqrt(5)))." },
    { key: RELU_DEPTH, type: 'number', default: 6, description: 'How many hidden ReLU-family layers (not followed by normalization) make a stack deep enough for Glorot/LeCun-scaled weights to be reported.' },
  ],
  docs: `## What it does
Compares each hidden Dense/Linear/convolution layer's kernel initializer with the activation that
really acts on the layer's output (its \`activation=\`, or a following \`Activation\`/\`ReLU()\` layer,
\`nn.ReLU()\` module or \`F.relu\` call) and reports:
- **He/Kaiming on sigmoid, tanh, softsign or hard sigmoid** (\`'he_normal'\`, \`'he_uniform'\`,
  \`VarianceScaling(scale=2.0)\`, \`kaiming_*_(nonlinearity='relu')\`);
- **Glorot/Xavier or LeCun in a deep ReLU-family stack**: at least \`${RELU_DEPTH}\` hidden layers
  with ReLU, leaky ReLU, ELU, GELU, swish... that a signal crosses one after another with no
  normalization layer between them (parallel branches count once; a residual sum continues from its
  shorter operand);
- **PyTorch \`kaiming_*_(nonlinearity=...)\` that disagrees with the layer's activation**, e.g.
  \`nonlinearity='tanh'\` on a ReLU layer or \`'relu'\` on a sigmoid layer;
- **He/Kaiming on the kernel or the recurrent kernel of an LSTM, GRU or tanh RNN**, whose gates are
  sigmoid and tanh (\`kernel_initializer='he_uniform'\`, \`recurrent_initializer='he_normal'\`, and
  the Keras 1 spellings \`init=\` / \`inner_init=\`).

How much a mismatch matters depends on the whole model, so the severity comes from the
signal-propagation prediction (mean-field recursions over the model at initialization, the numbers
the hovers, the inline hints and the probe show), graded with the probe's thresholds: a **warning**
when the first layer is predicted to get less than 1e-3 or more than 70x the last hidden layer's
gradient (vanishing or exploding), an **information** finding quoting the predicted ratio otherwise.
When the model cannot be propagated the finding is a warning judged by the initializer alone, and
says so.

By default only initializers written in the code are judged; \`${JUDGE_DEFAULTS}\` also judges
framework defaults. Not reported: output layers, layers followed by BatchNorm/LayerNorm (which
re-normalizes whatever scale the weights give), sigmoid gates whose output multiplies another
signal (squeeze-and-excitation, GLU), layers whose activation cannot be determined, and SELU layers
(GL104 checks their LeCun requirement).

## Why is this bad?
Variance-preserving initializations are derived for a particular activation. Glorot & Bengio
(2010) derive Var(W) = 2/(fan_in + fan_out) for units used in their linear regime around 0
(slope 1, as tanh). He et al. (2015) show that a rectifier zeroes half of a symmetric input and so
halves the second moment of the signal; Var(W) = 2/fan_in compensates. Doubling the variance for a
tanh or sigmoid layer drives its units towards saturation, where the derivative vanishes. Using
Glorot's (or LeCun's 1/fan_in) variance with ReLU shrinks the signal by about √2 per layer: fine for
a few layers, but over a deep stack forward activations and backward gradients shrink
geometrically (He et al. report a 30-layer ReLU network with Glorot initialization that does not
train at all). PyTorch's \`kaiming_*_\` computes its gain from \`nonlinearity\`; naming the wrong one
gives the wrong scale for the activation actually used.

## Example
\`\`\`python
layers.Dense(128, activation="tanh", kernel_initializer="he_normal")
\`\`\`
\`\`\`python
self.fc = nn.Linear(256, 256)
nn.init.kaiming_normal_(self.fc.weight, nonlinearity="tanh")
...
x = F.relu(self.fc(x))
\`\`\`

## Use instead
\`\`\`python
layers.Dense(128, activation="tanh", kernel_initializer="glorot_uniform")
\`\`\`
\`\`\`python
nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")
\`\`\`
Fixes: Keras initializers are replaced by the right string (\`'glorot_uniform'\`, \`'he_normal'\`);
PyTorch \`kaiming_*_\` calls get the right \`nonlinearity=\`, and \`xavier_*_\` calls in deep ReLU stacks
become \`kaiming_normal_(w, nonlinearity='relu')\`. They are safe (only the initializer's scale
convention changes) unless the written initializer also sets a seed or is shared with layers the
finding is not about.

## Options
- \`${JUDGE_DEFAULTS}\` (default false): also judge framework defaults.
- \`${RELU_DEPTH}\` (default 6): hidden ReLU-family layers that make a stack "deep".

## References
- Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks. AISTATS.
- He, Zhang, Ren & Sun (2015), Delving Deep into Rectifiers: Surpassing Human-Level Performance on ImageNet Classification. ICCV.
- LeCun, Bottou, Orr & Müller (1998), Efficient BackProp.
`,
};

/** The `nonlinearity=` PyTorch's calculate_gain knows for an activation. */
function torchNonlinearity(activation: ActivationName): string {
  if (activation === 'leaky_relu' || activation === 'prelu') return 'leaky_relu';
  if (activation === 'sigmoid' || activation === 'hard_sigmoid') return 'sigmoid';
  if (activation === 'tanh' || activation === 'softsign') return 'tanh';
  return 'relu';
}

interface Judged {
  layer: LayerIR;
  /** The layer's kernel initializer (the one assessed). */
  init: InitializerIR;
  assessment: InitAssessment;
}

function message(judged: Judged, site: InitSite, stackDepth: number, shrink: number | null, advice: string | null): string {
  const { layer, assessment } = judged;
  const act = assessment.activation;
  const use = advice ?? assessment.recommendation?.spelling ?? null;
  const label = initLabel(site.init);
  const name = layerLabel(layer);
  const more = site.layers.length > 1 ? ` (and ${site.layers.length - 1} more layer${site.layers.length > 2 ? 's' : ''})` : '';
  switch (assessment.mismatch) {
    case 'he-on-saturating':
      if (site.init.framework === 'torch' && (site.init.name === 'kaiming_normal' || site.init.name === 'kaiming_uniform')) {
        return `${label} on ${act} layer ${name}${more}: He/Kaiming's ReLU gain (variance 2/fan_in) is meant for rectifiers and pushes ${act} units towards saturation, where gradients vanish. Use nonlinearity='${torchNonlinearity(act)}'.`;
      }
      return `He/Kaiming initialization (${label}) on ${act} layer ${name}${more}: its variance 2/fan_in is meant for rectifiers and pushes ${act} units towards saturation, where gradients vanish. Use ${use ?? 'Glorot'}.`;
    case 'nonlinearity-disagrees':
      return `${label} is computed for nonlinearity='${assessment.writtenNonlinearity}', but layer ${name}${more} uses ${act}. Use nonlinearity='${torchNonlinearity(act)}'.`;
    default: {
      const loss = shrink !== null && shrink > 1 ? `; over the stack the signal's std shrinks about ${shrink >= 10 ? shrink.toFixed(0) : formatNumber(shrink)}x` : '';
      return `${familyTitle(assessment.family)} initialization (${label}) on ${act} layer ${name}${more} in a stack of ${stackDepth} ReLU-family layers: Var(W) ≤ 1/fan_in ignores that ${act} zeroes half of its input${loss}. Use ${use ?? 'He initialization'}.`;
    }
  }
}

function fixFor(model: ModelIR, context: RuleContext, judged: Judged, site: InitSite, shared: boolean): Fix[] {
  const text = context.sourceText(model.file);
  const { layer, assessment } = judged;
  const init: InitializerIR = site.init;
  if (text === undefined || !assessment.recommendation) return [];
  const seeded = /\bseed\b/.test(init.spelling);
  const safety = shared || seeded ? 'unsafe' : 'safe';
  if (init.framework === 'torch' && (init.name === 'kaiming_normal' || init.name === 'kaiming_uniform') && assessment.mismatch !== 'small-on-relu') {
    const nonlinearity = torchNonlinearity(assessment.activation);
    const edit = kaimingNonlinearityEdit(model.file, text, init, nonlinearity);
    return edit ? [{ title: `Use nonlinearity='${nonlinearity}'`, safety, edits: [edit] }] : [];
  }
  const rec = assessment.recommendation;
  const edit = replaceInitializerEdit(model.file, text, layer, init, rec.spelling);
  return edit ? [{ title: `Initialize with ${rec.spelling}`, safety, edits: [edit] }] : [];
}


/** What a recurrent layer's kernels should start with: Glorot for the input kernel, orthogonal for the recurrent one. */
const RECURRENT_ADVICE = { kernel: "'glorot_uniform'", recurrent: "'orthogonal'" };

/**
 * He/Kaiming on a recurrent layer's kernel or recurrent kernel: the gates are sigmoid/tanh, so
 * Var(W) = 2/fan_in pushes them towards saturation, and the recurrent kernel multiplies the state at
 * every step. Judged on written initializers (or defaults with judge-default-init).
 */
function recurrentFindings(model: ModelIR, context: RuleContext, predicted: PredictedSeverity): Finding[] {
  const judgeDefaults = context.option<boolean>(JUDGE_DEFAULTS);
  const text = context.sourceText(model.file);
  const findings: Finding[] = [];
  for (const layer of model.layers) {
    if (!isRecurrent(layer)) continue;
    const cell = layer.kind === 'simple-rnn' ? (layer.activation?.name ?? 'tanh') : 'tanh';
    if (layer.kind === 'simple-rnn' && activationClass(cell) !== 'saturating') continue;
    const he = (init: InitializerIR | null): init is InitializerIR => init !== null && (init.explicit || judgeDefaults) && initFamily(init) === 'he';
    const parts = [
      { init: layer.kernelInit, what: 'kernel', advice: RECURRENT_ADVICE.kernel },
      { init: layer.recurrentInit, what: 'recurrent kernel', advice: RECURRENT_ADVICE.recurrent },
    ].filter((p): p is { init: InitializerIR; what: string; advice: string } => he(p.init));
    if (parts.length === 0) continue;
    const gates = layer.kind === 'simple-rnn' ? `its ${cell} activation` : 'its sigmoid gates and tanh candidate';
    const which = parts.map((p) => `${p.what} (${initLabel(p.init)})`).join(' and ');
    const use = parts.map((p) => `${p.advice} for the ${p.what}`).join(' and ');
    // Keras strings replace the written values (in the file's quote style); PyTorch calls are left to the user.
    const edits = text === undefined || model.framework !== 'keras' ? [] : parts.map((p) => (p.init.range ? replaceInitializerEdit(model.file, text, layer, p.init, p.advice) : null));
    const written = edits.filter((e): e is TextEdit => e !== null);
    const fixes: Fix[] = written.length > 0 && written.length === edits.length ? [{ title: `Use ${use}`, safety: 'safe', edits: written }] : [];
    findings.push(
      makeFinding(meta, model, context, {
        message: `He/Kaiming initialization on the ${which} of ${layerLabel(layer)}: ${gates} saturate, and Var(W) = 2/fan_in is meant for rectifiers, so the gates start pushed towards their flat tails and the state's gradient shrinks step after step. Use ${use}. ${predicted.note}`,
        severity: predicted.severity,
        range: parts[0]!.init.range ?? layer.range,
        related: parts.slice(1).flatMap((p) => (p.init.range ? [{ location: { file: model.file, range: p.init.range }, message: `the ${p.what} initializer of '${layer.name}'` }] : [])),
        fixes,
        whatIf: {
          title: 'Glorot kernel and orthogonal recurrent kernel',
          ops: parts.map((p): IrEditOp =>
            p.what === 'kernel'
              ? { op: 'set-kernel-init', layerId: layer.id, init: { name: 'glorot_uniform', params: {}, options: {} } }
              : { op: 'set-recurrent-init', layerId: layer.id, init: { name: 'orthogonal', params: { gain: 1 }, options: {} } },
          ),
        },
      }),
    );
  }
  return findings;
}

export const rule: Rule = {
  meta,
  check(model, context) {
    const judgeDefaults = context.option<boolean>(JUDGE_DEFAULTS);
    const minDepth = context.option<number>(RELU_DEPTH);
    const graph = layerGraph(model);
    const judged: Judged[] = model.layers
      .flatMap((layer) => (layer.kernelInit && isWeightLayer(layer) && feedsLearningLayer(graph, layer) ? [{ layer, init: layer.kernelInit }] : []))
      .map(({ layer, init }) => ({ layer, init, assessment: assessKernelInit(layer, init, model) }))
      .filter(({ assessment }) => !assessment.effective.uncertain && !assessment.effective.normalizedBy && assessment.activationClass !== 'self-normalizing');

    // The ReLU-family stack of a layer: the deepest run of hidden rectifier layers of its normalization-free segment.
    const segmentOf = normalizationFreeSegments(graph);
    const reluLike = new Map(judged.filter((j) => activationClass(j.assessment.activation) === 'relu-like').map((j) => [j.layer, j]));
    const members = new Map<number, LayerIR[]>();
    for (const layer of model.layers) {
      const segment = segmentOf.get(layer.id);
      if (segment === undefined) continue;
      const list = members.get(segment);
      if (list) list.push(layer);
      else members.set(segment, [layer]);
    }
    const stacks = new Map<number, Judged[]>();
    const reluStackOf = (layer: LayerIR): Judged[] => {
      const segment = segmentOf.get(layer.id);
      if (segment === undefined) return [];
      let stack = stacks.get(segment);
      if (!stack) {
        stack = deepestChain(graph, members.get(segment) ?? [], (l) => reluLike.has(l)).flatMap((l) => reluLike.get(l) ?? []);
        stacks.set(segment, stack);
      }
      return stack;
    };
    // How much the signal's std shrinks over a stack: the product of its layers' scale ratios.
    const shrinks = new Map<Judged[], number | null>();
    const shrinkOf = (stack: Judged[]): number | null => {
      const known = shrinks.get(stack);
      if (known !== undefined) return known;
      const ratios = stack.map((j) => j.assessment.ratio);
      const shrink = ratios.every((r): r is number => r !== null && r > 0) ? 1 / ratios.reduce((p, r) => p * r, 1) : null;
      shrinks.set(stack, shrink);
      return shrink;
    };

    const reported = judged.filter(({ layer, init, assessment }) => {
      if (!init.explicit && !judgeDefaults) return false;
      if (assessment.mismatch === 'small-on-relu') return reluStackOf(layer).length >= minDepth;
      // A sigmoid gate (squeeze-and-excitation, GLU) only scales another signal: its scale is not a stack's.
      if (assessment.activationClass === 'saturating' && feedsMerge(graph, layer, ['multiply'])) return false;
      return assessment.mismatch === 'he-on-saturating' || assessment.mismatch === 'nonlinearity-disagrees';
    });
    const byLayer = new Map(reported.map((j) => [j.layer.id, j]));
    // How many layers each written initializer sets in the whole model, to tell shared sites apart.
    const siteUse = new Map<string, number>();
    for (const layer of model.layers) if (layer.kernelInit?.range && layer.sharesWeightsWith === null) siteUse.set(rangeKey(layer.kernelInit.range), (siteUse.get(rangeKey(layer.kernelInit.range)) ?? 0) + 1);

    const predicted = predictedSeverity(modelPrediction(model));
    const findings: Finding[] = recurrentFindings(model, context, predicted);
    for (const site of groupByInitSite(reported.map((j) => j.layer))) {
      const first = byLayer.get(site.layers[0]!.id);
      if (first === undefined) continue;
      const shared = site.init.range !== null && (siteUse.get(rangeKey(site.init.range)) ?? 0) > site.layers.length;
      const related: RelatedInfo[] = relatedLayers(model, site, (l) => `${layerLabel(l)} is initialized here`);
      const appliedBy = first.assessment.effective.appliedBy;
      if (appliedBy && appliedBy.id !== first.layer.id && appliedBy.activation?.range) {
        related.push({ location: { file: model.file, range: appliedBy.activation.range }, message: `the ${first.assessment.activation} applied to '${first.layer.name}'` });
      }
      const rec = first.assessment.recommendation;
      const stack = reluStackOf(first.layer);
      const shrink = shrinkOf(stack);
      const fixes = fixFor(model, context, first, site, shared);
      const replacement = fixes[0]?.edits[0] ?? null;
      const advice = rec && first.assessment.mismatch !== 'nonlinearity-disagrees' && first.assessment.mismatch !== 'he-on-saturating' ? adviceText(site.init, rec.spelling, replacement) : null;
      findings.push(
        makeFinding(meta, model, context, {
          message: `${message(first, site, stack.length, shrink, advice)} ${predicted.note}`,
          severity: predicted.severity,
          range: site.range,
          related,
          fixes,
          whatIf: rec ? { title: `${rec.init.name} to match ${first.assessment.activation}`, ops: site.layers.map((l) => ({ op: 'set-kernel-init' as const, layerId: l.id, init: byLayer.get(l.id)?.assessment.recommendation?.init ?? rec.init })) } : null,
        }),
      );
    }
    return findings;
  },
};
