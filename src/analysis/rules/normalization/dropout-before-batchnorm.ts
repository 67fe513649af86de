/**
 * GL303: Dropout directly before BatchNorm. BN's moving variance is accumulated under dropout noise
 * during training but applied to dropout-free activations at inference: a variance shift.
 */
import type { LayerIR } from '../../../shared/ir';
import type { Fix } from '../../../shared/findings';
import type { Rule, RuleMeta } from '../types';
import { editsStayWithin, groupByLayerCall } from '../helpers/call-key';
import { layerGraph } from '../helpers/layer-graph';
import { isShapeOnlyLayer } from '../helpers/layer-kinds';
import { layerLabel } from '../helpers/layer-label';
import { makeFinding } from '../helpers/make-finding';
import { swapCallsEdit } from '../helpers/swap-calls-edit';
import { walkBackward } from '../helpers/walk-chain';

const meta: RuleMeta = {
  code: 'GL303',
  name: 'dropout-before-batchnorm',
  category: 'normalization',
  defaultSeverity: 'warning',
  fixable: 'unsafe',
  summary: 'Dropout directly before BatchNorm: the variance BN learns in training does not match inference.',
  options: [],
  docs: `## What it does
Finds a dropout layer whose output goes directly (at most through a flatten/reshape/pooling) into a
batch normalization layer.

## Why is this bad?
During training, (inverted) dropout keeps the mean of each unit but increases its variance: kept
units are scaled by 1/(1-p) and the rest are zero. BatchNorm normalizes with the statistics of these
noisy activations and accumulates its moving variance from them (Ioffe & Szegedy 2015). At inference
dropout is switched off, the variance of its output is smaller, but BN still divides by the
training-time moving variance, so every unit after the BN is scaled differently than during
training. Li, Chen, Hu & Yang (2019) name this the "variance shift" between dropout and BN and show
that it degrades accuracy, more with larger dropout rates.

## Example
\`\`\`python
model = keras.Sequential([
    layers.Dense(512, input_shape=(784,)),
    layers.Dropout(0.5),
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Dense(10, activation="softmax"),
])
\`\`\`

## Use instead
Put dropout after the batch normalization (or only after the last BN, before the classifier, as Li
et al. recommend):
\`\`\`python
model = keras.Sequential([
    layers.Dense(512, use_bias=False, input_shape=(784,)),
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Dropout(0.5),
    layers.Dense(10, activation="softmax"),
])
\`\`\`
When both layers are written in call order (Sequential, \`model.add\`, functional, \`nn.Sequential\`),
the fix swaps them (unsafe: it changes the model).

## References
- Li, Chen, Hu & Yang (2019), Understanding the Disharmony between Dropout and Batch Normalization by Variance Shift.
- Ioffe & Szegedy (2015), Batch Normalization.
- Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov (2014), Dropout.
`,
};

/** The dropout feeding `norm` (through shape-only layers), when its rate is not known to be 0. */
function dropoutBefore(layer: LayerIR, previous: LayerIR | undefined): LayerIR | null {
  if (layer.kind !== 'batchnorm' || !previous || previous.kind !== 'dropout') return null;
  return previous.rate === 0 ? null : previous;
}

export const rule: Rule = {
  meta,
  check(model, context) {
    if (!model.layers.some((l) => l.kind === 'batchnorm')) return [];
    const graph = layerGraph(model);
    const pairs = model.layers
      .map((norm) => ({ norm, dropout: dropoutBefore(norm, walkBackward(graph, norm, isShapeOnlyLayer)?.layer) }))
      .filter((p): p is { norm: LayerIR; dropout: LayerIR } => p.dropout !== null);
    const text = context.sourceText(model.file);
    return groupByLayerCall(pairs, (p) => p.dropout).map((group) => {
      const { dropout, norm } = group[0]!;
      const copies = group.map((p) => p.dropout);
      const adjacent = walkBackward(graph, norm, () => false)?.layer === dropout;
      const touched = [...copies, ...group.map((p) => p.norm)];
      const swap = adjacent && text !== undefined && editsStayWithin(model.layers, touched) ? swapCallsEdit(model, text, dropout, norm) : null;
      const fix: Fix | null = swap ? { title: 'Move the dropout after the BatchNorm', safety: 'unsafe', edits: swap } : null;
      return makeFinding(meta, model, context, {
        message: `${layerLabel(dropout, 'Dropout')} feeds ${layerLabel(norm, 'BatchNorm')}: BN learns its moving variance under dropout noise but is used without it at inference (variance shift, Li et al. 2019). Put the dropout after the BatchNorm.`,
        range: dropout.range,
        related: [{ location: { file: model.file, range: norm.range }, message: `${layerLabel(norm, 'BatchNorm')} after the dropout` }],
        fixes: fix ? [fix] : [],
        whatIf: {
          title: 'dropout after BatchNorm',
          ops: group.map((p) => ({ op: 'move-before' as const, layerId: p.norm.id, beforeLayerId: p.dropout.id })),
        },
      });
    });
  },
};
