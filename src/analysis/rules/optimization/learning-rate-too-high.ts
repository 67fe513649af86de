/**
 * GL402: a learning rate above what the optimizer family tolerates. Thresholds are per family
 * (adaptive methods take steps of about `lr` per weight; SGD's step scales with the gradient) and
 * are options with documented defaults.
 */
import type { ModelIR, OptimizerIR } from '../../../shared/ir';
import type { Finding, Fix } from '../../../shared/findings';
import type { Rule, RuleContext, RuleMeta } from '../types';
import { makeFinding } from '../helpers/make-finding';
import { isClippedOptimizer, keyOf, optimizersOf } from './optimizer-facts';

/** Optimizer families and their threshold option. */
const FAMILIES: { key: string; names: string[]; default: number; suggested: number; description: string }[] = [
  {
    key: 'max-lr-adaptive',
    names: ['adam', 'adamw', 'nadam', 'adamax', 'radam', 'rmsprop', 'amsgrad', 'lamb'],
    default: 0.01,
    suggested: 0.001,
    description: 'Highest learning rate accepted for Adam, AdamW, Nadam, Adamax, RAdam and RMSprop (defaults: 1e-3).',
  },
  { key: 'max-lr-sgd', names: ['sgd'], default: 1.0, suggested: 0.01, description: 'Highest learning rate accepted for SGD (with or without momentum) when gradients are not clipped.' },
  { key: 'max-lr-adagrad', names: ['adagrad'], default: 0.1, suggested: 0.01, description: 'Highest learning rate accepted for Adagrad (defaults: 1e-3 in Keras, 1e-2 in PyTorch).' },
  { key: 'max-lr-adadelta', names: ['adadelta'], default: 1.0, suggested: 1.0, description: 'Highest learning rate accepted for Adadelta (PyTorch default 1.0, the rate of the original method).' },
  { key: 'max-lr-lion', names: ['lion'], default: 0.001, suggested: 0.0001, description: 'Highest learning rate accepted for Lion (default 1e-4; it takes sign steps of exactly lr).' },
];

const familyOf = (name: string) => FAMILIES.find((f) => f.names.includes(name)) ?? null;

const meta: RuleMeta = {
  code: 'GL402',
  name: 'learning-rate-too-high',
  category: 'optimization',
  defaultSeverity: 'warning',
  fixable: 'unsafe',
  summary: 'The learning rate is above the documented limit for its optimizer: training is likely to diverge.',
  options: FAMILIES.map((f) => ({ key: f.key, type: 'number' as const, default: f.default, description: f.description })),
  docs: `## What it does
Reads the learning rate written in an optimizer that trains a model (Keras \`learning_rate=\` / legacy
\`lr=\` / the first positional argument, or the \`initial_learning_rate\` of a schedule; PyTorch
\`lr=\`, the second positional argument, or the largest \`'lr'\` of the parameter groups) and reports it
when it is above the threshold for the optimizer's family. Rates that are not written (the framework
default) or not known statically (\`lr=args.lr\`) are never reported.

## Why is this bad?
The learning rate sets the size of every update. Adaptive methods (Adam, RMSprop and relatives)
divide the gradient by a running estimate of its magnitude, so each weight moves by roughly \`lr\`
per step whatever the gradient's scale (Kingma & Ba 2015). Weights initialized with the
variance-preserving schemes of Glorot & Bengio (2010) or He et al. (2015) have a standard deviation of
about \`1/sqrt(fan_in)\` (0.03 to 0.1 for typical layers), so a rate of 0.05 with Adam rewrites a large
part of each weight in one step: the loss oscillates or diverges and ReLU units die. Plain SGD steps
are \`lr * gradient\`; rates above 1 overshoot unless the gradients are small or clipped.

Defaults, chosen to report only rates that are almost always a mistake rather than a tuning choice:
| family | reported above | typical |
|---|---|---|
| Adam, AdamW, Nadam, Adamax, RAdam, RMSprop | 0.01 | 1e-4 .. 3e-3 |
| SGD (momentum or not) | 1.0 | 1e-3 .. 0.1 (up to ~0.5 with batch norm and large batches) |
| Adagrad | 0.1 | 1e-3 .. 1e-2 |
| Adadelta | 1.0 | 1.0 (the method's own scale) |
| Lion | 0.001 | 1e-5 .. 3e-4 |

SGD with gradient-norm clipping is not reported: the update is then bounded by \`lr * clipnorm\`,
which is how large rates are used on purpose (e.g. recurrent language models trained with SGD and
clipping).

## Example
\`\`\`python
optimizer = keras.optimizers.Adam(learning_rate=0.1)
model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
\`\`\`

## Use instead
\`\`\`python
optimizer = keras.optimizers.Adam(learning_rate=1e-3)
\`\`\`
The fix sets a typical rate for the family (1e-3 for adaptive methods, 0.01 for SGD). It is unsafe:
it changes how fast and where the model trains; a learning-rate finder or a short sweep is the better
way to choose. A warm-up or a decaying schedule also helps when a high rate is wanted later.

## Options
${FAMILIES.map((f) => `- \`${f.key}\` (default ${f.default}): ${f.description}`).join('\n')}

## References
- Kingma & Ba (2015), Adam: A Method for Stochastic Optimization.
- Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks.
- He, Zhang, Ren & Sun (2015), Delving Deep into Rectifiers.
- Pascanu, Mikolov & Bengio (2013), On the difficulty of training recurrent neural networks.
- Smith (2017), Cyclical Learning Rates for Training Neural Networks (the learning-rate range test).
`,
};

function formatRate(value: number): string {
  return Number.isInteger(value) || value >= 0.01 ? String(value) : value.toExponential();
}

function rateFix(optimizer: OptimizerIR, suggested: number, context: RuleContext): Fix | null {
  if (!optimizer.learningRateRange) return null;
  const text = context.sourceText(optimizer.file);
  if (text === undefined) return null;
  return {
    title: `Use learning rate ${formatRate(suggested)}`,
    safety: 'unsafe',
    edits: [{ file: optimizer.file, range: optimizer.learningRateRange, newText: formatRate(suggested) }],
  };
}

/** Gradients of this model's loops or optimizer are norm-clipped, which bounds an SGD step. */
function sgdStepBounded(model: ModelIR, optimizer: OptimizerIR): boolean {
  if (isClippedOptimizer(optimizer)) return true;
  const loops = model.training.loops.filter((l) => l.optimizer && keyOf(l.optimizer.file, l.optimizer.range) === keyOf(optimizer.file, optimizer.range));
  return loops.length > 0 && loops.every((l) => l.clip !== null);
}

export const rule: Rule = {
  meta,
  check(model, context) {
    const findings: Finding[] = [];
    for (const optimizer of optimizersOf(model.training)) {
      const rate = optimizer.learningRate;
      const family = familyOf(optimizer.name);
      if (rate === null || !family || !optimizer.learningRateRange) continue;
      const threshold = context.option<number>(family.key);
      if (!(rate > threshold)) continue;
      if (optimizer.name === 'sgd' && sgdStepBounded(model, optimizer)) continue;
      const fix = rateFix(optimizer, family.suggested, context);
      findings.push({
        ...makeFinding(meta, model, context, {
          message: `Learning rate ${formatRate(rate)} is above ${formatRate(threshold)}, the limit for ${optimizer.spelling} (${family.key}): updates this large tend to make training diverge. Typical: ${formatRate(family.suggested)}.`,
          range: optimizer.learningRateRange,
          related: [{ location: { file: optimizer.file, range: optimizer.range }, message: `optimizer training model '${model.name}'` }],
          fixes: fix ? [fix] : [],
          whatIf: { title: `learning rate ${formatRate(family.suggested)}`, ops: [{ op: 'set-optimizer', patch: { learningRate: family.suggested } }] },
        }),
        file: optimizer.file,
      });
    }
    return findings;
  },
};
