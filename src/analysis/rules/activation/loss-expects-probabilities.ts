/**
 * GL106: an output trained on a loss that reads probabilities (or log-probabilities) but does not end
 * in the activation that makes them: Keras' cross-entropies without `from_logits=True` on an output of
 * either sign, torch's NLLLoss on anything but a log-softmax, torch's BCELoss on an output of either sign.
 * The mirror of GL105. Which outputs these are is decided in one place (shared/losses.ts misreadOutputs),
 * where the hovers read it too, beside what the probe computes on them (what the framework computes).
 */
import type { Location, ModelIR } from '../../../shared/ir';
import type { Finding, Fix } from '../../../shared/findings';
import { outputWidth } from '../../../shared/layers';
import { activatedLayer, BINARY_LOSS, misreadOutputs, PROBABILITY_CLIP, SPARSE_CATEGORICAL_LOSS, type MisreadOutput, type OutputLoss } from '../../../shared/losses';
import type { Rule, RuleContext, RuleMeta } from '../types';
import { kerasActivationEdit } from '../helpers/keras-activation-edit';
import { layerLabel } from '../helpers/layer-label';
import { makeFinding } from '../helpers/make-finding';
import { placeText } from '../helpers/place-text';

const meta: RuleMeta = {
  code: 'GL106',
  name: 'loss-expects-probabilities',
  category: 'activation',
  defaultSeverity: 'warning',
  fixable: 'unsafe',
  summary: 'The loss reads probabilities (or log-probabilities) but the output does not end in the softmax, sigmoid or log-softmax that makes them.',
  options: [],
  docs: `## What it does
Finds a model output trained on a loss that expects probabilities, where the output does not end in
the activation that makes them:
- Keras' \`categorical_crossentropy\`, \`sparse_categorical_crossentropy\` and \`binary_crossentropy\`
  (strings, functions or loss objects) without \`from_logits=True\`, on an output that can be
  negative: a \`Dense\` or convolution with no activation, or an activation such as tanh;
- PyTorch's \`NLLLoss\` (\`F.nll_loss\`) on an output that is not a log-softmax: a softmax, or logits;
- PyTorch's \`BCELoss\` (\`F.binary_cross_entropy\`) on an output that can be negative: torch stops with
  an error at the first batch (\`all elements of input should be between 0 and 1\`).

Only a loss known to read the model's own output counts (\`compile(loss=...)\`, a criterion called on
the model's output), and a compile's loss only when its training runs: a model that is compiled but
only used for inference (\`predict\` or \`load_weights\`, and no \`fit\`/\`train_on_batch\`: a GAN generator that
only the combined model trains) trains on no loss. An output whose last activation the analyzer cannot
see (a \`Lambda\`, a custom layer) is not reported. A ReLU or sigmoid output under a Keras probability loss is not reported: its
values are not negative, and Keras' normalization keeps them usable.

## Why is this bad?
Keras computes these losses on whatever the output holds: it clips the values to [1e-7, 1 - 1e-7]
before the log (\`categorical_crossentropy\` divides them by their sum first, a sum of values of either
sign). A value below zero is clipped and gets no gradient; a value just above zero gets a gradient of
1/value. At initialization about half of the outputs are negative: the loss starts at ~16 nats for the
examples whose class is among them and teaches them nothing, while the few values nearest zero set the
size of every update. Training stalls or jumps, and the accuracy stays near chance.

\`NLLLoss\` takes minus the value of the right class of what it reads. On log-probabilities that is
cross-entropy. After a softmax it is minus the probability: its gradient on the logits is about 1/C^2 of
cross-entropy's at C classes, and an example the model gets confidently wrong (probability near 0)
gets almost none. On logits it compares nothing: the loss falls without end as the right class's value
grows, and no other class is pushed down.

## Example
\`\`\`python
model = keras.Sequential([layers.Dense(128, activation="relu"), layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
\`\`\`

## Use instead
\`\`\`python
model = keras.Sequential([layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
# or keep the logits: loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
\`\`\`
With PyTorch, end the model in \`nn.LogSoftmax(dim=1)\` for \`NLLLoss\`, or give \`CrossEntropyLoss\` the
logits. The fix (unsafe: the model's outputs change meaning) sets the Keras layer's activation to the
one its loss expects; the what-if probes it.

## References
- Keras' backend losses (keras/src/backend/tensorflow/nn.py): the clip to [epsilon, 1 - epsilon] before the log.
- PyTorch documentation of NLLLoss ("The input given through a forward call is expected to contain log-probabilities").
`,
};

/** Where the output's activation is (its layer's activation, else the layer), or where the loss call applies it. */
function siteOf(model: ModelIR, output: OutputLoss): { file: string; at: Location['range'] } {
  const applied = output.written?.appliedFirst;
  if (applied) return { file: applied.at.file, at: applied.at.range };
  const layer = activatedLayer(model, output);
  return { file: model.file, at: layer.activation?.range ?? layer.range };
}

function kerasFinding(model: ModelIR, context: RuleContext, { output, loss, expects: want, words }: MisreadOutput): Finding {
  const layer = activatedLayer(model, output);
  const where = loss.at ? ` (${placeText(model.file, loss.at)})` : '';
  const clip = `[${PROBABILITY_CLIP}, 1 - ${PROBABILITY_CLIP}]`;
  const [how, consequence] =
    loss.name === BINARY_LOSS
      ? [`clips what it reads to ${clip} before the log`, 'values outside [0, 1] get no gradient and values near 0 or 1 get gradients of 1/value']
      : loss.name === SPARSE_CATEGORICAL_LOSS
        ? [`clips what it reads to ${clip} before the log`, 'values below zero get no gradient and values near zero get gradients of 1/value']
        : [`divides what it reads by its sum, a sum of values of either sign, and clips the result to ${clip} before the log`, 'values clipped get no gradient and the rest swing with that sum'];
  const text = context.sourceText(model.file);
  const edit = text !== undefined && layer.kind !== 'activation' ? kerasActivationEdit(model.file, text, layer, want) : null;
  const fix: Fix | null = edit ? { title: `Set ${layerLabel(layer)}'s activation to '${want}'`, safety: 'unsafe', edits: [edit] } : null;
  const { at } = siteOf(model, output);
  return makeFinding(meta, model, context, {
    message: `${loss.name}${where} reads probabilities, but ${layerLabel(layer)} ends the output in ${words}: Keras ${how}, so ${consequence}. End the output in a ${want}, or pass from_logits=True to the loss.`,
    range: at,
    related: loss.at ? [{ location: loss.at, message: `${loss.name} reads the output here` }] : [],
    fixes: fix ? [fix] : [],
    whatIf: { title: `a ${want} before ${loss.name}`, ops: [{ op: 'set-activation', layerId: layer.id, activation: want }] },
  });
}

/** What torch computes on what its criterion reads: NLLLoss minus the class's value, BCELoss an error outside [0, 1]. */
function torchConsequence(model: ModelIR, { output, expects, unbounded }: MisreadOutput): { reads: string; consequence: string; advice: string } {
  if (expects !== 'log_softmax') {
    return { reads: 'probabilities', consequence: 'torch stops at the first batch with a value outside [0, 1] ("all elements of input should be between 0 and 1")', advice: 'End the output in a sigmoid, or use BCEWithLogitsLoss on it.' };
  }
  const classes = outputWidth(model, output.index);
  const consequence =
    output.activation === 'softmax'
      ? `minus the right class's probability: its gradient on the logits is about 1/${classes !== null && classes > 1 ? `${classes}^2` : 'C^2'} of cross-entropy's, and an example the model gets confidently wrong gets almost none`
      : `minus the right class's value alone${unbounded ? ', which nothing bounds: it falls without end as that value grows' : ''}, and no other class is pushed down`;
  return { reads: 'log-probabilities', consequence: `the loss is ${consequence}`, advice: `Use log_softmax (nn.LogSoftmax) ${output.activation === 'softmax' ? 'in place of the softmax' : 'on the output'}, or CrossEntropyLoss on the logits.` };
}

/** torch's NLLLoss or BCELoss on what it does not expect: reported where the activation is, or where the loss call applies it (in the training code's file). */
function torchFinding(model: ModelIR, context: RuleContext, misread: MisreadOutput): Finding {
  const { output, loss, expects, words, lossWords } = misread;
  const layer = activatedLayer(model, output);
  const site = siteOf(model, output);
  const where = loss.at ? ` (${placeText(site.file, loss.at)})` : '';
  const source = loss.appliedFirst ? `the loss call applies ${words} to the output of '${model.name}'` : `${layerLabel(layer)} ends the output in ${words}`;
  const { reads, consequence, advice } = torchConsequence(model, misread);
  const finding = makeFinding(meta, model, context, {
    message: `${lossWords}${where} reads ${reads}, but ${source}: ${consequence}. ${advice}`,
    range: site.at,
    related: loss.at ? [{ location: loss.at, message: `${lossWords} reads the output here` }] : [],
    whatIf: loss.appliedFirst ? null : { title: `a ${expects === 'log_softmax' ? 'log-softmax' : expects} before ${lossWords}`, ops: [{ op: 'set-activation', layerId: layer.id, activation: expects }] },
  });
  return { ...finding, file: site.file };
}

export const rule: Rule = {
  meta,
  check(model, context) {
    return misreadOutputs(model).map((misread) => (model.framework === 'torch' ? torchFinding(model, context, misread) : kerasFinding(model, context, misread)));
  },
};
