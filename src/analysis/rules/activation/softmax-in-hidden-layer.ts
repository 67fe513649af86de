/**
 * GL102: softmax (or log-softmax) whose output goes straight into another learning layer. Attention
 * and gating, where softmax weights are multiplied with other tensors, are not reported.
 */
import { isRecurrent } from '../../../shared/layers';
import type { ActivationName, LayerIR } from '../../../shared/ir';
import type { Fix } from '../../../shared/findings';
import type { Rule, RuleMeta } from '../types';
import { appliedActivation } from '../helpers/applied-activation';
import { editsStayWithin, groupByCall } from '../helpers/call-key';
import { layerGraph } from '../helpers/layer-graph';
import { isDropoutLayer, isLearningLayer, isNormalizationLayer, isShapeOnlyLayer } from '../helpers/layer-kinds';
import { layerLabel } from '../helpers/layer-label';
import { makeFinding } from '../helpers/make-finding';
import { replaceActivationWithReluEdit } from '../helpers/replace-activation-edit';
import { walkForward } from '../helpers/walk-chain';

const SOFTMAX: ReadonlySet<ActivationName> = new Set(['softmax', 'log_softmax']);

const meta: RuleMeta = {
  code: 'GL102',
  name: 'softmax-in-hidden-layer',
  category: 'activation',
  defaultSeverity: 'warning',
  fixable: 'unsafe',
  summary: 'Softmax used as a hidden-layer activation: units compete and gradients shrink.',
  options: [],
  docs: `## What it does
Finds a softmax (or log-softmax) activation whose output feeds another dense, convolution or
recurrent layer, i.e. softmax used as a hidden activation. Softmax on the output layer is what it is
for and is not reported. Attention and gating, where the softmax weights are multiplied with or
added to other tensors, are not reported either.

## Why is this bad?
Softmax turns a layer into a probability vector: its outputs sum to 1, so with n units each is about
1/n at initialization and the units compete instead of encoding independent features. Its Jacobian,
diag(s) - s s^T, has entries of order 1/n and loses a dimension (adding a constant to every input
changes nothing), so the gradient reaching the layers below is small and gets smaller as the layer
widens; when one unit dominates, softmax saturates like a sigmoid. Hidden layers should use an
activation with a healthy derivative such as ReLU (Glorot & Bengio 2010 discuss how saturating
hidden units slow learning; He et al. 2015 for ReLU networks).

## Example
\`\`\`python
model = keras.Sequential([
    layers.Dense(128, activation="softmax", input_shape=(64,)),
    layers.Dense(10, activation="softmax"),
])
\`\`\`

## Use instead
\`\`\`python
model = keras.Sequential([
    layers.Dense(128, activation="relu", input_shape=(64,)),
    layers.Dense(10, activation="softmax"),
])
\`\`\`
The fix (unsafe: it changes the model) replaces the hidden softmax with ReLU.

## References
- Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks.
- He, Zhang, Ren & Sun (2015), Delving Deep into Rectifiers.
`,
};

/** Between a hidden softmax and the layer that consumes it: layers that pass the values through. */
function passesThrough(layer: LayerIR): boolean {
  return isDropoutLayer(layer) || isShapeOnlyLayer(layer) || isNormalizationLayer(layer) || (layer.kind === 'activation' && appliedActivation(layer) === 'linear');
}

export const rule: Rule = {
  meta,
  check(model, context) {
    const softmaxes = model.layers.filter((layer) => SOFTMAX.has(appliedActivation(layer) ?? 'linear'));
    if (softmaxes.length === 0) return [];
    const graph = layerGraph(model);
    const consumers = new Map<LayerIR, LayerIR>();
    for (const layer of softmaxes) {
      const consumer = walkForward(graph, layer, passesThrough)?.layer;
      if (consumer !== undefined && (isLearningLayer(consumer) || isRecurrent(consumer))) consumers.set(layer, consumer);
    }
    const text = context.sourceText(model.file);
    return groupByCall([...consumers.keys()]).flatMap((copies) => {
      const layer = copies[0]!;
      const name = appliedActivation(layer);
      const consumer = consumers.get(layer);
      if (name === null || consumer === undefined) return [];
      const edit = text !== undefined && layer.activation && editsStayWithin(model.layers, copies) ? replaceActivationWithReluEdit(model.file, text, layer.activation) : null;
      const fix: Fix | null = edit ? { title: `Use relu instead of ${name} in the hidden layer`, safety: 'unsafe', edits: [edit] } : null;
      return makeFinding(meta, model, context, {
        message: `${name} used as a hidden activation: its output feeds ${layerLabel(consumer)}. Softmax makes units compete (outputs sum to 1, about 1/n each) and its Jacobian shrinks the gradient; keep it for the output layer and use relu here.`,
        range: layer.range,
        related: [{ location: { file: model.file, range: consumer.range }, message: `${layerLabel(consumer)} consumes the ${name} output` }],
        fixes: fix ? [fix] : [],
        whatIf: { title: `relu instead of hidden ${name}`, ops: copies.map((c) => ({ op: 'set-activation' as const, layerId: c.id, activation: 'relu' as const })) },
      });
    });
  },
};
