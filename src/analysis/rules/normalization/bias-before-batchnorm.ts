/**
 * GL302: a dense/conv layer with a bias directly followed by BatchNorm. BN subtracts the per-feature
 * batch mean, which removes any constant per-feature offset, so the bias is dead weight.
 */
import type { LayerIR } from '../../../shared/ir';
import type { Fix } from '../../../shared/findings';
import type { Rule, RuleMeta } from '../types';
import { appliedActivation } from '../helpers/applied-activation';
import { editsStayWithin, groupByLayerCall } from '../helpers/call-key';
import { layerGraph } from '../helpers/layer-graph';
import { isLearningLayer } from '../helpers/layer-kinds';
import { layerLabel } from '../helpers/layer-label';
import { makeFinding } from '../helpers/make-finding';
import { noBiasEdit, noBiasKeyword, normalizesFeatureAxis } from '../helpers/no-bias-edit';
import { walkForward } from '../helpers/walk-chain';

const meta: RuleMeta = {
  code: 'GL302',
  name: 'bias-before-batchnorm',
  category: 'normalization',
  defaultSeverity: 'warning',
  fixable: 'safe',
  summary: 'A dense/conv bias directly before BatchNorm is cancelled by the mean subtraction.',
  options: [],
  docs: `## What it does
Finds a dense or convolution layer without an activation that keeps its bias (\`use_bias=True\`, the
default in Keras and PyTorch) and feeds a batch normalization layer directly.

## Why is this bad?
Batch normalization subtracts the mean of each feature (channel) over the batch before scaling and
shifting with its own learned gamma and beta (Ioffe & Szegedy 2015). A bias adds the same constant
to a feature for every example, so the mean subtraction removes it exactly: the bias receives zero
gradient, never changes the output, and only costs parameters, memory and time. BN's beta already
provides the learned offset. Ioffe & Szegedy drop the bias for this reason, and residual networks
write \`Conv2d(..., bias=False)\` before every BN.

## Example
\`\`\`python
model = keras.Sequential([
    layers.Conv2D(64, 3, padding="same", input_shape=(32, 32, 3)),
    layers.BatchNormalization(),
    layers.ReLU(),
])
\`\`\`

## Use instead
\`\`\`python
model = keras.Sequential([
    layers.Conv2D(64, 3, padding="same", use_bias=False, input_shape=(32, 32, 3)),
    layers.BatchNormalization(),
    layers.ReLU(),
])
\`\`\`
The fix is safe: \`use_bias=False\` (Keras) or \`bias=False\` (PyTorch) does not change what the model
can compute. A layer with an activation before the BN is not reported: the activation is between
the bias and the mean subtraction, so the bias matters there (see GL301). Keras BatchNormalization
with a non-default \`axis\` is not reported unless it matches \`data_format="channels_first"\`.

## References
- Ioffe & Szegedy (2015), Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift.
- He, Zhang, Ren & Sun (2016), Deep Residual Learning for Image Recognition.
`,
};

export const rule: Rule = {
  meta,
  check(model, context) {
    if (!model.layers.some((l) => l.kind === 'batchnorm')) return [];
    const graph = layerGraph(model);
    const followedByNorm = (layer: LayerIR): LayerIR | null => {
      if (!isLearningLayer(layer) || !layer.useBias || appliedActivation(layer) !== 'linear') return null;
      const next = walkForward(graph, layer, () => false)?.layer;
      return next && next.kind === 'batchnorm' && normalizesFeatureAxis(model, layer, next) ? next : null;
    };
    const biased = model.layers.flatMap((layer) => {
      const norm = followedByNorm(layer);
      return norm ? [{ layer, norm }] : [];
    });
    const text = context.sourceText(model.file);
    return groupByLayerCall(biased, (b) => b.layer).map((group) => {
      const { layer, norm } = group[0]!;
      const copies = group.map((b) => b.layer);
      // One edit changes every copy made by the same call: offer it only when every copy qualifies.
      const edit = text !== undefined && editsStayWithin(model.layers, copies) ? noBiasEdit(model, text, layer) : null;
      const keyword = `${noBiasKeyword(model)}=False`;
      const fix: Fix | null = edit ? { title: `Set ${keyword} (BatchNorm's beta replaces the bias)`, safety: 'safe', edits: [edit] } : null;
      return makeFinding(meta, model, context, {
        message: `${layerLabel(layer)} adds a bias right before ${layerLabel(norm, 'BatchNorm')}, which subtracts the batch mean and so cancels it; BatchNorm's beta already provides the offset. Set ${keyword}.`,
        range: layer.range,
        related: [{ location: { file: model.file, range: norm.range }, message: `${layerLabel(norm, 'BatchNorm')} cancels the bias` }],
        fixes: fix ? [fix] : [],
        whatIf: { title: 'no bias before BatchNorm', ops: copies.map((c) => ({ op: 'set-use-bias' as const, layerId: c.id, value: false })) },
      });
    });
  },
};
