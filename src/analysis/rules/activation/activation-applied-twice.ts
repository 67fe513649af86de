/**
 * GL105: an output that ends in a softmax (or sigmoid) trained on a loss that applies one of its own
 * (torch's CrossEntropyLoss and BCEWithLogitsLoss, Keras' `from_logits=True`). Which loss each output
 * trains on, and which outputs apply their activation twice, is decided in one place (shared/losses.ts),
 * where the probe, the prediction and the activation's hover read it too.
 */
import type { Fix, RelatedInfo } from '../../../shared/findings';
import { outputWidth } from '../../../shared/layers';
import { doubledOutputs } from '../../../shared/losses';
import type { Rule, RuleMeta } from '../types';
import { deleteLayerEdit } from '../helpers/delete-layer-edit';
import { layerLabel } from '../helpers/layer-label';
import { makeFinding } from '../helpers/make-finding';
import { placeText } from '../helpers/place-text';

const meta: RuleMeta = {
  code: 'GL105',
  name: 'activation-applied-twice',
  category: 'activation',
  defaultSeverity: 'warning',
  fixable: 'unsafe',
  summary: 'The output applies a softmax (or sigmoid) and its loss applies another: the gradient is damped and the loss cannot reach zero.',
  options: [],
  docs: `## What it does
Finds a model output that ends in a softmax (or a sigmoid) and is trained on a loss that applies a
softmax (or sigmoid) of its own to what it reads: PyTorch's \`CrossEntropyLoss\` and
\`F.cross_entropy\` (softmax), \`BCEWithLogitsLoss\` and \`F.binary_cross_entropy_with_logits\`
(sigmoid), and Keras' cross-entropies with \`from_logits=True\`. Which loss trains which output is read
from the code: \`compile(loss=...)\`, the criteria a training loop adds up, a LightningModule's
\`training_step\`; a loop's criterion counts when it is called on the model's own output (a GAN
generator whose loss reads its discriminator's output is not reported). The first softmax may also be
applied by the loss call itself (\`criterion(F.softmax(out, dim=1), y)\`, \`out.sigmoid()\`): that is
reported where the call applies it. A log-softmax under \`CrossEntropyLoss\` is not reported: applying
log-softmax to log-probabilities changes nothing.

## Why is this bad?
The loss sees softmax(softmax(z)). The inner softmax puts every value in [0, 1], so the outer one
stays within a factor e of uniform: with C classes the probability of the right class is at most
e / (e + C - 1), and the loss cannot fall below log((e + C - 1) / e), 1.46 nats at 10 classes. The
gradient reaching the logits passes through the inner softmax's Jacobian, diag(p) - p p^T, whose
entries are of order 1/C at initialization, and which vanishes as the inner softmax saturates while
the loss is still high: the output layer and everything below it learn slowly, then stop (the same
saturation Glorot & Bengio 2010 describe for sigmoid units). A sigmoid twice keeps the predicted
probability above 0.5 and multiplies the gradient by at most 1/4.

## Example
\`\`\`python
model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10), nn.Softmax(dim=1))
criterion = nn.CrossEntropyLoss()
...
loss = criterion(model(x), y)
\`\`\`

## Use instead
\`\`\`python
model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
criterion = nn.CrossEntropyLoss()  # takes logits; apply softmax only to read probabilities
\`\`\`
The fix (unsafe: the model's outputs become logits) removes a softmax or sigmoid layer written on a
line of its own. With Keras, dropping \`from_logits=True\` is the other way out; where the loss call
applies the softmax, give the loss the output as it is.

## References
- Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks.
- PyTorch documentation of CrossEntropyLoss ("the input is expected to contain the unnormalized logits").
`,
};

/** What the second activation does to the loss and the gradient, with this output's numbers when known. */
function consequence(twice: 'softmax' | 'sigmoid', classes: number | null): string {
  if (twice === 'sigmoid') return 'the predicted probability never falls below 0.5 and the gradient is multiplied by at most 1/4';
  if (classes === null || classes < 2) return 'it cannot approach zero and the gradient on the logits is damped';
  const floor = Math.log((Math.E + classes - 1) / Math.E);
  return `at ${classes} classes it cannot fall below ${floor.toFixed(2)} nats, and the gradient on the logits is about 1/${classes} of a single softmax's at initialization`;
}

export const rule: Rule = {
  meta,
  check(model, context) {
    return doubledOutputs(model).flatMap(({ twice, index, first, loss, lossWords }) => {
      const { at } = loss;
      const related: RelatedInfo[] = at ? [{ location: at, message: `${lossWords} applies a ${twice} of its own here` }] : [];
      const where = at ? `, ${placeText(model.file, at)}` : '';
      const effect = `so the loss reads ${twice}(${twice}(x)): ${consequence(twice, outputWidth(model, first.kind === 'layer' ? first.index : index))}`;
      if (first.kind === 'call') {
        // The loss call applies the first one: reported where it does, in the training code's file.
        const finding = makeFinding(meta, model, context, {
          message: `${twice} applied twice: the loss call applies ${twice} to the output of '${model.name}' and its loss (${lossWords}${where}) applies another, ${effect}. Give the loss the output as it is.`,
          range: first.at.range,
          related,
        });
        return [{ ...finding, file: first.at.file }];
      }
      const layer = model.layers[first.index]!;
      const text = context.sourceText(model.file);
      const edit = layer.kind === 'activation' && text !== undefined ? deleteLayerEdit(model, text, layer) : null;
      const fix: Fix | null = edit ? { title: `Remove the ${twice}: ${lossWords} applies its own`, safety: 'unsafe', edits: [edit] } : null;
      return [
        makeFinding(meta, model, context, {
          message: `${twice} applied twice: ${layerLabel(layer)} ends the output in a ${twice} and its loss (${lossWords}${where}) applies another, ${effect}. Give the loss the logits (drop this ${twice}) or use a loss that reads probabilities.`,
          range: layer.activation?.range ?? layer.range,
          related,
          fixes: fix ? [fix] : [],
          whatIf: { title: `no ${twice} before ${lossWords}`, ops: [{ op: 'set-activation', layerId: layer.id, activation: 'linear' }] },
        }),
      ];
    });
  },
};
