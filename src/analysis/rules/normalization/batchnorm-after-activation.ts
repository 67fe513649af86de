/**
 * GL301 (information): BatchNorm placed right after a nonlinearity. Both orders are used in practice;
 * the note points at the original placement and what it buys, it is not an error.
 */
import type { ActivationName, LayerIR, ModelIR } from '../../../shared/ir';
import type { Fix, IrEditOp, TextEdit } from '../../../shared/findings';
import type { Rule, RuleMeta } from '../types';
import { appliedActivation, appliesNonlinearity } from '../helpers/applied-activation';
import { editsStayWithin, groupByLayerCall } from '../helpers/call-key';
import { layerGraph, type LayerGraph } from '../helpers/layer-graph';
import { isLearningLayer } from '../helpers/layer-kinds';
import { layerLabel } from '../helpers/layer-label';
import { makeFinding } from '../helpers/make-finding';
import { moveFusedActivationEdit } from '../helpers/move-fused-activation-edit';
import { noBiasEdit, noBiasKeyword, normalizesFeatureAxis } from '../helpers/no-bias-edit';
import { swapCallsEdit } from '../helpers/swap-calls-edit';
import { walkBackward } from '../helpers/walk-chain';
import { isDropoutLayer } from '../helpers/layer-kinds';

const meta: RuleMeta = {
  code: 'GL301',
  name: 'batchnorm-after-activation',
  category: 'normalization',
  defaultSeverity: 'information',
  fixable: 'unsafe',
  summary: 'BatchNorm placed after the activation; the original placement normalizes the pre-activation.',
  options: [],
  docs: `## What it does
Notes a batch normalization layer whose input is the output of a nonlinearity, e.g.
\`Dense(64, activation="relu")\` followed by \`BatchNormalization()\`, or \`nn.ReLU()\` followed by
\`nn.BatchNorm2d\`, also through a Dropout in between (activation -> Dropout -> BatchNorm). This is information, not a warning: both orders are in use. BatchNorm after SELU is
left to GL104, which asks for no BatchNorm at all in a self-normalizing stack.

## Why is this bad?
It is not necessarily bad. The two placements:
- **Before the activation** (linear -> BN -> activation) is the placement of Ioffe & Szegedy (2015).
  BN then normalizes W x, whose distribution is closer to Gaussian than a rectified output, and the
  activation always sees inputs with a controlled mean and scale: sigmoid/tanh units are kept out of
  saturation and ReLU units are kept from being inactive for the whole batch. Because BN subtracts
  the mean, the preceding layer's bias is redundant and can be dropped (\`use_bias=False\`, see
  GL302); BN's beta takes its role.
- **After the activation** (linear -> activation -> BN) normalizes what the next layer actually
  receives. With ReLU it also works well in many reported experiments, and some architectures and
  tutorials use it deliberately. The cost is that the activation itself sees unnormalized inputs, so
  the saturation/dead-unit protection above is lost, and the preceding bias is no longer redundant.

Prefer the original order unless you have measured that the other works better for your model.
The Gradient Lens probe can compare the two ("what if").

## Example
\`\`\`python
model = keras.Sequential([
    layers.Dense(256, activation="relu", input_shape=(784,)),
    layers.BatchNormalization(),
    layers.Dense(10, activation="softmax"),
])
\`\`\`

## Use instead
\`\`\`python
model = keras.Sequential([
    layers.Dense(256, use_bias=False, input_shape=(784,)),
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.Dense(10, activation="softmax"),
])
\`\`\`
When the layers are written in call order (Sequential, \`model.add\`, functional, \`nn.Sequential\`),
the fix (unsafe: it changes the model) swaps a separate activation layer with the BatchNorm, or moves
a Keras \`activation=\` argument to an \`Activation\` layer after the BatchNorm.

## References
- Ioffe & Szegedy (2015), Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift.
- He, Zhang, Ren & Sun (2016), Deep Residual Learning for Image Recognition (conv -> BN -> ReLU).
`,
};

export const rule: Rule = {
  meta,
  check(model, context) {
    if (!model.layers.some((l) => l.kind === 'batchnorm')) return [];
    const graph = layerGraph(model);
    const pairs: { norm: LayerIR; activation: LayerIR; through: LayerIR[] }[] = [];
    for (const norm of model.layers) {
      if (norm.kind !== 'batchnorm') continue;
      // Dropout between them changes nothing about the order (activation -> Dropout -> BatchNorm).
      const stop = walkBackward(graph, norm, isDropoutLayer);
      const previous = stop?.layer;
      const name = previous ? appliedActivation(previous) : null;
      // BatchNorm after SELU is GL104's business (remove it), not a question of order.
      if (previous && name !== 'unknown' && name !== 'selu' && appliesNonlinearity(previous)) pairs.push({ norm, activation: previous, through: stop.crossed });
    }
    const text = context.sourceText(model.file);
    return groupByLayerCall(pairs, (p) => p.norm).map((group) => {
      const { norm, activation, through } = group[0]!;
      const copies = group.map((p) => p.norm);
      const name = appliedActivation(activation) as ActivationName;
      // The clean form also drops the bias BatchNorm then cancels (GL302), so the fix leaves no new warning.
      const biased = group.map((p) => biasedLayerBefore(model, graph, p.activation, p.norm));
      const touched = [...copies, ...group.map((p) => p.activation), ...biased.filter((l): l is LayerIR => l !== null)];
      // With a Dropout in between, reordering the calls would not give linear -> BN -> activation: no text fix.
      const edits = text === undefined || through.length > 0 || !editsStayWithin(model.layers, touched) ? null : cleanOrderEdits(model, text, activation, norm, biased[0] ?? null);
      const title = `Move the BatchNorm before the ${name} activation${biased[0] ? ` and set ${noBiasKeyword(model)}=False before it` : ''}`;
      const fix: Fix | null = edits ? { title, safety: 'unsafe', edits } : null;
      const ops: IrEditOp[] = group.flatMap(({ norm: copy, activation: act }, i): IrEditOp[] => {
        const bias = biased[i];
        const noBias: IrEditOp[] = bias ? [{ op: 'set-use-bias', layerId: bias.id, value: false }] : [];
        return act.kind === 'activation'
          ? [{ op: 'move-before', layerId: copy.id, beforeLayerId: act.id }, ...noBias]
          : [{ op: 'set-activation', layerId: act.id, activation: 'linear' }, { op: 'insert-after', afterLayerId: copy.id, kind: 'activation', activation: name }, ...noBias];
      });
      return makeFinding(meta, model, context, {
        message: `${layerLabel(norm, 'BatchNorm')} normalizes the output of ${name} (${layerLabel(activation)}). The original placement (Ioffe & Szegedy 2015) is linear -> BatchNorm -> ${name}, which keeps the activation's inputs normalized and makes the bias before BN redundant; both orders are used in practice.`,
        range: norm.range,
        related: [{ location: { file: model.file, range: activation.activation?.range ?? activation.range }, message: `the ${name} activation before the BatchNorm` }],
        fixes: fix ? [fix] : [],
        whatIf: { title: `BatchNorm before ${name}`, ops },
      });
    });
  },
};

/** The layer whose bias the BatchNorm will cancel once it moves before the activation: the fused layer itself, or the one before a separate activation. */
function biasedLayerBefore(model: ModelIR, graph: LayerGraph, activation: LayerIR, norm: LayerIR): LayerIR | null {
  const linear = activation.kind === 'activation' ? (walkBackward(graph, activation, () => false)?.layer ?? null) : activation;
  return linear && isLearningLayer(linear) && linear.useBias && normalizesFeatureAxis(model, linear, norm) ? linear : null;
}

/** The text edits to the clean form: BatchNorm before the activation, and the bias before it dropped when that edit can be made. */
function cleanOrderEdits(model: ModelIR, text: string, activation: LayerIR, norm: LayerIR, biased: LayerIR | null): TextEdit[] | null {
  const bias = biased ? noBiasEdit(model, text, biased) : null;
  if (activation.kind === 'activation') {
    const swap = swapCallsEdit(model, text, activation, norm);
    return swap && bias ? [...swap, bias] : swap;
  }
  // Fused (`Conv2D(..., activation="relu")`): when the bias flag is not written yet, it takes the
  // activation argument's place, so the two changes to that call are one edit.
  const inserts = bias !== null && bias.range.start.line === bias.range.end.line && bias.range.start.character === bias.range.end.character;
  const moved = moveFusedActivationEdit(model, text, activation, norm, inserts ? `${noBiasKeyword(model)}=False` : null);
  return moved && bias && !inserts ? [...moved, bias] : moved;
}
