/**
 * GL401: a recurrent model (LSTM / GRU / SimpleRNN) trained with an optimizer or a loop that never
 * clips the gradient. Reported where the training happens (the optimizer reaching `compile`, or the
 * `step()` of the loop) and, when that is outside the model's definition, also on the first recurrent
 * layer, so the problem shows where the layer is written, in whichever file is open.
 */
import { isRecurrent } from '../../../shared/layers';
import { rangeContains } from '../../../shared/ranges';
import type { LayerIR, ModelIR, OptimizerIR, Range, TrainingLoopIR } from '../../../shared/ir';
import type { Finding, Fix, RelatedInfo } from '../../../shared/findings';
import type { Rule, RuleContext, RuleMeta } from '../types';
import { makeFinding } from '../helpers/make-finding';
import { placeText } from '../helpers/place-text';
import { layerLabel } from '../helpers/layer-label';
import { hasUnknownClipping, isClippedOptimizer, keyOf, loopUpdatesClipped } from './optimizer-facts';
import { compileRuns } from '../../../shared/training';
import { clipBeforeStepFix, kerasClipnormFix, trainerClipFix } from './clipping-fixes';

const CLIPNORM = 1.0;

const meta: RuleMeta = {
  code: 'GL401',
  name: 'recurrent-without-clipping',
  category: 'optimization',
  defaultSeverity: 'warning',
  fixable: 'unsafe',
  summary: 'A recurrent model (LSTM/GRU/RNN) is trained without gradient clipping: gradients can explode.',
  options: [],
  docs: `## What it does
Finds models with LSTM, GRU or SimpleRNN layers whose training never clips the gradient:
- Keras: the optimizer that actually reaches \`model.compile(...)\` (a constructor such as
  \`keras.optimizers.Adam(...)\`, a string such as \`'adam'\`, or the default RMSprop when none is
  given) has none of \`clipnorm\`, \`clipvalue\`, \`global_clipnorm\`. In a custom
  \`GradientTape\` loop, neither the optimizer nor a \`tf.clip_by_*\` call between \`tape.gradient\`
  and \`apply_gradients\` clips.
  A custom \`train_step\` that clips is what \`fit()\` runs, so it counts as clipping.
- PyTorch: no \`clip_grad_norm_\` / \`clip_grad_value_\` (any spelling, also hand-written
  \`p.grad.clamp_\`, \`accelerator.clip_grad_norm_\`, or a project helper whose name mentions
  clipping or whose body clips) between \`loss.backward()\` and \`optimizer.step()\` (or
  \`scaler.step\`). Clipping after \`step()\` does not count: those gradients have already been applied.
  The loop is tied to the model through the optimizer it steps (\`optim.Adam(model.parameters())\`),
  following functions, closures, trainer classes (\`self.optimizer\`) and their call sites.
- PyTorch Lightning: \`trainer.fit(model)\` with a \`Trainer(...)\` that has no \`gradient_clip_val\`
  (Lightning runs backward and the step itself; \`gradient_clip_val=None\` or \`0\` is no clipping).
  Reported at the \`Trainer(...)\` call; a \`**kwargs\` splat there may clip, so nothing is reported.

The finding is reported at the optimizer or the \`step()\` call, with related information pointing at
the recurrent layers, and a second time on the first recurrent layer when the training is elsewhere:
a PyTorch loop outside the module's class, or another file (\`model.py\` defines the LSTM,
\`train.py\` imports and trains it), so the problem shows where the layer is written. Suppressing the finding at the training site (\`# noqa: GL401\`) also removes
that second mark. Nothing is reported when no training code is visible or
when the optimizer or loop cannot be traced to the model, nor for a Keras model that is compiled but
only used for inference (\`predict\` or \`load_weights\`, and no \`fit\`/\`train_on_batch\` or loop: a sampling
script that loads trained weights, a GAN generator that only the combined model trains).

## Why is this bad?
Backpropagation through time multiplies the gradient by the recurrent Jacobian once per time step.
When its largest singular value is above 1 the gradient norm grows exponentially with the sequence
length, and a single long or unusual sequence produces an update large enough to throw the weights
into a region the model never recovers from (loss spikes to NaN). Pascanu, Mikolov & Bengio (2013)
analyse this "exploding gradient" problem and show that rescaling the gradient when its norm exceeds
a threshold removes the cliffs without slowing ordinary training. Gating (LSTM, GRU) mitigates
vanishing gradients but not exploding ones, and batch normalization, the usual stabiliser in
feed-forward nets, is awkward to apply across time steps.

## Example
\`\`\`python
model = keras.Sequential([
    layers.LSTM(128, input_shape=(200, 16)),
    layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
\`\`\`
\`\`\`python
for x, y in loader:
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
\`\`\`

## Use instead
\`\`\`python
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0), loss="mse")
\`\`\`
\`\`\`python
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
\`\`\`
With mixed precision, unscale first: \`scaler.unscale_(optimizer)\`, then clip, then
\`scaler.step(optimizer)\`.

The fixes (add \`clipnorm=1.0\` to the optimizer, or replace a string / the compile default with a
clipping constructor, importing its class when the file has no \`tf\` / \`keras\` name for it;
insert a \`clip_grad_norm_\` line right before \`step()\` with the same indentation; add
\`gradient_clip_val=1.0\` to a Lightning \`Trainer(...)\`) are marked unsafe: clipping changes the updates whenever the
gradient norm exceeds the threshold, which is the point, but 1.0 is a common starting value rather
than a tuned one. Check the typical gradient norm of your model and adjust.

## References
- Pascanu, Mikolov & Bengio (2013), On the difficulty of training recurrent neural networks.
- Hochreiter & Schmidhuber (1997), Long Short-Term Memory.
- Keras optimizer arguments \`clipnorm\`, \`clipvalue\`, \`global_clipnorm\`; PyTorch
  \`torch.nn.utils.clip_grad_norm_\`.
`,
};

/** One place where the model is trained without clipping. */
interface UnclippedSite {
  file: string;
  range: Range;
  message: string;
  fix: Fix | null;
}

/** "LSTM 'lstm'": the class is always said, since the message counts recurrent layers by kind. */
const recurrentLabel = (layer: LayerIR): string => layerLabel(layer, layer.className);

function recurrentSummary(layers: LayerIR[]): string {
  const first = layers[0]!;
  return layers.length === 1 ? recurrentLabel(first) : `${recurrentLabel(first)} and ${layers.length - 1} more recurrent layer${layers.length > 2 ? 's' : ''}`;
}

function optimizerLabel(optimizer: OptimizerIR): string {
  return optimizer.spelling === '(default)' ? `the default optimizer (${optimizer.name})` : `optimizer ${optimizer.spelling}`;
}

function keraSite(model: ModelIR, recurrent: LayerIR[], context: RuleContext): UnclippedSite | null {
  const t = model.training;
  const optimizer = t.optimizer;
  if (!t.compile || !compileRuns(t) || !optimizer || isClippedOptimizer(optimizer) || hasUnknownClipping(optimizer)) return null;
  // A custom train_step that clips (tf.clip_by_global_norm before apply_gradients) is what fit() runs.
  if (t.loops.some((l) => l.clip !== null)) return null;
  const atCompile = optimizer.spelling === '(default)';
  return {
    file: optimizer.file,
    range: optimizer.range,
    message: `${recurrentSummary(recurrent)} ${recurrent.length === 1 ? 'is' : 'are'} trained with ${optimizerLabel(optimizer)}, which has no clipnorm/clipvalue/global_clipnorm: backpropagation through time can make gradients explode. Add clipnorm=${CLIPNORM.toFixed(1)} (or global_clipnorm).`,
    fix: kerasClipnormFix(optimizer, atCompile ? t.compile.range : null, context, CLIPNORM),
  };
}

function loopSite(model: ModelIR, recurrent: LayerIR[], loop: TrainingLoopIR, context: RuleContext): UnclippedSite | null {
  if (loopUpdatesClipped(loop)) return null;
  if (loop.trainer) {
    return {
      file: loop.file,
      range: loop.step,
      message: `${recurrentSummary(recurrent)} ${recurrent.length === 1 ? 'is' : 'are'} trained by this Lightning Trainer without gradient_clip_val: backpropagation through time can make gradients explode; pass gradient_clip_val=${CLIPNORM.toFixed(1)} (clips the gradient norm).`,
      fix: trainerClipFix(loop, context, CLIPNORM),
    };
  }
  const tf = model.framework === 'keras';
  const what = tf ? 'apply_gradients()' : 'step()';
  const between = tf ? 'tape.gradient() and apply_gradients()' : 'backward() and step()';
  const where = loop.closure ? 'inside the closure passed to step(), after backward()' : `right before ${what}`;
  const advice = tf ? 'clip with tf.clip_by_global_norm or give the optimizer clipnorm' : `call torch.nn.utils.clip_grad_norm_(..., max_norm=${CLIPNORM.toFixed(1)}) ${where}`;
  return {
    file: loop.file,
    range: loop.step,
    message: `${recurrentSummary(recurrent)} ${recurrent.length === 1 ? 'is' : 'are'} trained by this loop without gradient clipping between ${between}: backpropagation through time can make gradients explode; ${advice}.`,
    fix: tf ? null : clipBeforeStepFix(loop, context, CLIPNORM),
  };
}

function sitesOf(model: ModelIR, recurrent: LayerIR[], context: RuleContext): UnclippedSite[] {
  const sites: UnclippedSite[] = [];
  const keras = model.framework === 'keras' ? keraSite(model, recurrent, context) : null;
  if (keras) sites.push(keras);
  const seen = new Set<string>();
  for (const loop of model.training.loops) {
    const key = keyOf(loop.file, loop.step);
    if (seen.has(key)) continue;
    seen.add(key);
    // A Keras loop whose optimizer is unknown may clip inside the optimizer: only known ones count.
    if (model.framework === 'keras' && (!loop.optimizer || hasUnknownClipping(loop.optimizer))) continue;
    const site = loopSite(model, recurrent, loop, context);
    if (site) sites.push(site);
  }
  return sites;
}

export const rule: Rule = {
  meta,
  check(model, context) {
    // A module called several times (a GRUCell iterated in forward) is one layer, counted and named once.
    const seenCalls = new Set<string>();
    const recurrent = model.layers.filter(isRecurrent).filter((l) => !seenCalls.has(keyOf(model.file, l.range)) && seenCalls.add(keyOf(model.file, l.range)));
    if (recurrent.length === 0) return [];
    const sites = sitesOf(model, recurrent, context);
    if (sites.length === 0) return [];
    const layerInfo: RelatedInfo[] = recurrent
      .map((l) => ({ location: { file: model.file, range: l.range }, message: `recurrent layer ${recurrentLabel(l)} of model '${model.name}'` }));
    // Named as the user would write it: Keras optimizers take clipnorm=, PyTorch clips with clip_grad_norm_.
    const clip = model.framework === 'torch' ? `clip_grad_norm_, max_norm=${CLIPNORM.toFixed(1)}` : `clipnorm=${CLIPNORM.toFixed(1)}`;
    const whatIf = { title: `clip gradients (${clip})`, ops: [{ op: 'set-optimizer' as const, patch: { clipnorm: CLIPNORM } }] };
    const findings: Finding[] = sites.map((site) => ({
      ...makeFinding(meta, model, context, { message: site.message, range: site.range, related: layerInfo, fixes: site.fix ? [site.fix] : [], whatIf }),
      file: site.file,
    }));
    // The problem lives in the recurrent layer: mark it too where the layer is written when the training
    // is elsewhere: another file, or a PyTorch loop outside the module class (a Keras compile is the
    // model's own call, next to it). The mark goes away with the sites when they are suppressed.
    const away = sites.filter((s) => s.file !== model.file || (model.framework === 'torch' && !rangeContains(model.range, s.range)));
    if (away.length > 0) {
      const where = away.map((s) => placeText(model.file, s)).join(', ');
      findings.push({
        ...makeFinding(meta, model, context, {
          message: `${recurrentSummary(recurrent)} of model '${model.name}' ${recurrent.length === 1 ? 'is' : 'are'} trained without gradient clipping (${where}): backpropagation through time can make gradients explode.`,
          range: recurrent[0]!.range,
          related: away.map((s) => ({ location: { file: s.file, range: s.range }, message: 'trained here without clipping' })),
          whatIf,
        }),
        echoes: away.map((s) => ({ file: s.file, range: s.range })),
      });
    }
    return findings;
  },
};

