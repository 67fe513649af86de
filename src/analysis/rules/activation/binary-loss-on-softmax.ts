/**
 * GL107: a softmax output over three classes or more trained on binary cross-entropy (Keras'
 * `binary_crossentropy`, torch's `BCELoss`). Which loss each output trains on is decided in one place
 * (shared/losses.ts binaryOnSoftmax), where the probe (one-hot labels, the loss the framework computes)
 * and the softmax's hover read it too.
 */
import type { Finding, Fix } from '../../../shared/findings';
import type { Location, ModelIR } from '../../../shared/ir';
import { activatedLayer, binaryOnSoftmax, type BinaryOnSoftmax } from '../../../shared/losses';
import type { Rule, RuleContext, RuleMeta } from '../types';
import { layerLabel } from '../helpers/layer-label';
import { makeFinding } from '../helpers/make-finding';
import { placeText } from '../helpers/place-text';
import { lineStarts, offsetAt } from '../helpers/text-offsets';

const meta: RuleMeta = {
  code: 'GL107',
  name: 'binary-loss-on-softmax',
  category: 'activation',
  defaultSeverity: 'warning',
  fixable: 'unsafe',
  summary: 'A softmax over several classes is trained on binary cross-entropy, which scores each class as an independent 0/1 label.',
  options: [],
  docs: `## What it does
Finds a model output that ends in a softmax over three classes or more and is trained on binary
cross-entropy: Keras' \`binary_crossentropy\` (a string, function or loss object) or PyTorch's \`BCELoss\`
called on the model's own output. At two classes binary cross-entropy of a softmax is cross-entropy
exactly, and is not reported.

## Why is this bad?
Binary cross-entropy treats each of the C outputs as its own yes/no question and averages the C losses.
A softmax's outputs are not independent: they sum to one. At initialization (uniform probabilities,
one-hot labels) the gradient on the logits is 1/(C (C - 1)) in squared norm against categorical
cross-entropy's (C - 1)/C: 1/(C - 1)^2 of it, 1/81 at 10 classes, so the network learns that much more
slowly from the same examples. In Keras, \`metrics=["accuracy"]\` then becomes binary accuracy over the C
units: 0.9 at 10 classes for a model that predicts no class at all.

## Example
\`\`\`python
model = keras.Sequential([layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
\`\`\`

## Use instead
\`\`\`python
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
# or, with integer class labels: loss="sparse_categorical_crossentropy"
\`\`\`
If the labels are independent (several classes can hold at once), end the output in a sigmoid instead.
The fix (unsafe: it assumes one-hot labels, which binary cross-entropy on this output already requires)
writes \`categorical_crossentropy\` in place of a loss written as the string \`binary_crossentropy\`.

## References
- Bishop (2006), Pattern Recognition and Machine Learning, 4.3.4: the softmax with the cross-entropy of a 1-of-C coding.
`,
};

/** `'binary_crossentropy'` written as a string literal at `at` -> `'categorical_crossentropy'`; null for any other spelling. */
function categoricalFix(at: Location, context: RuleContext): Fix | null {
  const text = context.sourceText(at.file);
  if (text === undefined) return null;
  const starts = lineStarts(text);
  const start = offsetAt(starts, at.range.start);
  const end = offsetAt(starts, at.range.end);
  if (!/^(['"])binary_crossentropy\1$/.test(text.slice(start, end))) return null;
  const range = { start: { line: at.range.start.line, character: at.range.start.character + 1 }, end: { line: at.range.end.line, character: at.range.end.character - 1 } };
  return { title: "Train on 'categorical_crossentropy' (one-hot labels)", safety: 'unsafe', edits: [{ file: at.file, range, newText: 'categorical_crossentropy' }] };
}

function finding(model: ModelIR, context: RuleContext, { output, loss, classes, lossWords }: BinaryOnSoftmax): Finding {
  const layer = activatedLayer(model, output);
  const where = loss.at ? ` (${placeText(model.file, loss.at)})` : '';
  const accuracy = model.framework === 'keras' ? `, and metrics=["accuracy"] becomes binary accuracy over the ${classes} units (${(1 - 1 / classes).toFixed(2)} for predicting no class)` : '';
  const fix = model.framework === 'keras' && loss.at ? categoricalFix(loss.at, context) : null;
  const instead = model.framework === 'torch' ? 'CrossEntropyLoss on the logits (drop the softmax)' : "'categorical_crossentropy' (one-hot labels) or 'sparse_categorical_crossentropy' (class indices)";
  return makeFinding(meta, model, context, {
    message: `${layerLabel(layer)} ends the output in a softmax over ${classes} classes and ${lossWords}${where} scores each class as an independent 0/1 label: at initialization the gradient on the logits is 1/${classes - 1}^2 of cross-entropy's${accuracy}. Use ${instead}, or a sigmoid if the labels are independent.`,
    range: layer.activation?.range ?? layer.range,
    related: loss.at ? [{ location: loss.at, message: `${lossWords} reads the softmax here` }] : [],
    fixes: fix ? [fix] : [],
  });
}

export const rule: Rule = {
  meta,
  check(model, context) {
    return binaryOnSoftmax(model).map((found) => finding(model, context, found));
  },
};
