/**
 * GL201: a hidden layer whose kernel starts constant (zeros, ones, Constant(c)). Every unit then
 * computes the same function, and a zero kernel also passes no gradient to the layers below.
 */
import type { LayerIR, ModelIR } from '../../../shared/ir';
import type { Fix } from '../../../shared/findings';
import { effectiveActivation, isConstantInitializer, isWeightLayer, recommendedInit, activationClass, formatNumber } from '../../../shared/knowledge';
import type { Rule, RuleMeta } from '../types';
import { layerGraph, type LayerGraph } from '../helpers/layer-graph';
import { feedsLearningLayer } from '../helpers/hidden-layer';
import { isLearningLayer } from '../helpers/layer-kinds';
import { makeFinding } from '../helpers/make-finding';
import { replaceInitializerEdit } from '../helpers/replace-initializer-edit';
import { adviceText, feedsMerge, groupByInitSite, initLabel, layerLabel, reaches, relatedLayers } from './init-sites';

const meta: RuleMeta = {
  code: 'GL201',
  name: 'constant-weight-init',
  category: 'initialization',
  defaultSeverity: 'error',
  fixable: 'unsafe',
  summary: 'A hidden layer\'s weights start constant (zeros/ones/constant): its units stay identical and a zero kernel blocks gradients.',
  options: [],
  docs: `## What it does
Finds Dense/Linear and convolution layers whose **kernel** (weight matrix) is initialized to a
constant — \`'zeros'\`, \`'ones'\`, \`initializers.Constant(c)\`, \`nn.init.zeros_\`, \`nn.init.ones_\`,
\`nn.init.constant_\`, \`w.data.fill_(c)\`, \`w.data.zero_()\` — when the layer is a hidden layer, i.e. its
output still goes through another learning layer.

Not reported: biases (zero biases are the standard choice), normalization-layer scales and shifts
(BatchNorm's gamma = 1, beta = 0), the model's last learning layer (a zero-initialized output or
classifier layer still learns, since its gradient is the hidden activation times the error) unless
its own activation has a zero derivative at 0 (a zero kernel with zero bias under ReLU or ReLU6
outputs 0 with ReLU'(0) = 0, so even the last layer learns nothing), and a
layer whose output goes straight into a residual \`Add\` (zero-initializing the last layer of a
residual branch, as in Fixup or ControlNet's zero convolutions, is deliberate).

## Why is this bad?
With every weight of a layer equal, every unit of the layer computes the same value and receives
the same update from the layer above it, so the units remain copies of each other: the layer has
the capacity of a single unit (the symmetry that random initialization exists to break;
Glorot & Bengio 2010). A zero kernel is worse: the gradient passed to the layers below is
Wᵀδ = 0, so nothing below it learns, and with ReLU-family activations (ReLU'(0) = 0 in both
frameworks) and zero biases its own units output 0 and receive no gradient at all — the layer is
dead from the first step. \`ones\` or a large constant also multiplies the signal by fan_in × c.

## Example
\`\`\`python
model = keras.Sequential([
    layers.Dense(128, activation="relu", kernel_initializer="zeros", input_shape=(784,)),
    layers.Dense(10, activation="softmax"),
])
\`\`\`
\`\`\`python
self.hidden = nn.Linear(784, 128)
nn.init.zeros_(self.hidden.weight)
\`\`\`

## Use instead
\`\`\`python
layers.Dense(128, activation="relu", kernel_initializer="he_normal", input_shape=(784,))
\`\`\`
\`\`\`python
nn.init.kaiming_normal_(self.hidden.weight, nonlinearity="relu")
nn.init.zeros_(self.hidden.bias)   # constant biases are fine
\`\`\`
The fix replaces the initializer with the variance-preserving one for the layer's activation
(He for the ReLU family, Glorot for tanh/sigmoid/linear, LeCun for SELU). It is marked unsafe: a
constant start is occasionally deliberate in ways a static check cannot see.

## References
- Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks. AISTATS.
- He, Zhang, Ren & Sun (2015), Delving Deep into Rectifiers. ICCV.
`,
};

function why(model: ModelIR, graph: LayerGraph, layer: LayerIR, value: number): string {
  const act = effectiveActivation(layer, model).activation;
  const relu = act !== null && activationClass(act.name) === 'relu-like';
  const below = reaches(layer, (l) => graph.predecessors(l), isLearningLayer) ? ', and the zero kernel passes no gradient (Wᵀδ = 0) to the layers below' : '';
  if (value === 0 && relu) return `with ${act.name}, its units output 0 and get no gradient (ReLU'(0) = 0)${below}: the layer never learns`;
  if (value === 0) return `every unit computes the same value${below}`;
  return `every unit computes the same value and receives the same update, so the units stay copies of each other (and the signal is scaled by fan_in × ${formatNumber(value)})`;
}

/** Activations whose derivative is 0 at 0 in both frameworks: a zero pre-activation gets no gradient. */
const ZERO_SLOPE_AT_ZERO: ReadonlySet<string> = new Set(['relu', 'relu6']);

/**
 * A zero kernel with no bias or a zero bias under a ReLU: the pre-activation is exactly 0, ReLU'(0) = 0,
 * so the layer learns nothing even as the model's last layer.
 */
function deadAtZero(model: ModelIR, layer: LayerIR): boolean {
  const init = layer.kernelInit;
  const zeroKernel = init !== null && (init.name === 'zeros' || (init.name === 'constant' && (init.params.value ?? init.params.val) === 0));
  const bias = layer.biasInit;
  const zeroBias = !layer.useBias || (bias !== null && (bias.name === 'zeros' || (bias.name === 'constant' && (bias.params.value ?? bias.params.val) === 0)));
  const act = effectiveActivation(layer, model).activation;
  return zeroKernel && zeroBias && act !== null && ZERO_SLOPE_AT_ZERO.has(act.name);
}

export const rule: Rule = {
  meta,
  check(model, context) {
    const graph = layerGraph(model);
    const constant = model.layers.filter((l) => isWeightLayer(l) && l.kernelInit !== null && isConstantInitializer(l.kernelInit.name));
    const hidden = constant.filter((l) => (feedsLearningLayer(graph, l) || deadAtZero(model, l)) && !feedsMerge(graph, l, ['add', 'multiply']));
    const text = context.sourceText(model.file);
    return groupByInitSite(hidden).map((site) => {
      const layer = site.layers[0]!;
      const init = site.init;
      const value = init.name === 'ones' ? 1 : init.name === 'zeros' ? 0 : (init.params.value ?? init.params.val ?? 0);
      const act = effectiveActivation(layer, model).activation;
      const rec = recommendedInit(act ?? 'linear', model.framework);
      const edit = rec && text !== undefined ? replaceInitializerEdit(model.file, text, layer, init, rec.spelling) : null;
      const fixes: Fix[] = edit && rec ? [{ title: `Initialize the kernel with ${rec.spelling}`, safety: 'unsafe', edits: [edit] }] : [];
      const count = site.layers.length > 1 ? ` (and ${site.layers.length - 1} more layer${site.layers.length > 2 ? 's' : ''})` : '';
      return makeFinding(meta, model, context, {
        message: `${feedsLearningLayer(graph, layer) ? 'Hidden layer' : 'Last layer'} ${layerLabel(layer)}${count} starts with every weight = ${formatNumber(value)} (${initLabel(init)}): ${why(model, graph, layer, value)}. Use a random initializer${rec ? ` such as ${adviceText(init, rec.spelling, edit)}` : ''}.`,
        range: site.range,
        related: relatedLayers(model, site, (l) => `${layerLabel(l)} is initialized here`),
        fixes,
        whatIf: rec ? { title: `${rec.init.name} instead of a constant kernel`, ops: site.layers.map((l) => ({ op: 'set-kernel-init' as const, layerId: l.id, init: rec.init })) } : null,
      });
    });
  },
};
