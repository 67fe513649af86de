/**
 * GL103: dense/convolution layers stacked with no activation between them. Two affine maps in a row
 * are one affine map, so the extra layer adds parameters but no expressive power.
 */
import type { LayerIR, ModelIR } from '../../../shared/ir';
import type { Fix, IrEditOp, TextEdit } from '../../../shared/findings';
import type { Rule, RuleContext, RuleMeta } from '../types';
import { appliedActivation, disguisedIdentity } from '../helpers/applied-activation';
import { parseCallArguments } from '../helpers/call-arguments';
import { editsStayWithin, rangeKey } from '../helpers/call-key';
import { kerasActivationEdit } from '../helpers/keras-activation-edit';
import { layerGraph, type LayerGraph } from '../helpers/layer-graph';
import { isDropoutLayer, isLearningLayer, isNormalizationLayer, isShapeOnlyLayer } from '../helpers/layer-kinds';
import { layerLabel } from '../helpers/layer-label';
import { makeFinding } from '../helpers/make-finding';
import { lineStarts, offsetAt, rangeOf } from '../helpers/text-offsets';
import { walkForward, type ChainStop } from '../helpers/walk-chain';
import { reaches } from '../initialization/init-sites';
import { isConv } from '../../../shared/layers';

const ALLOW_BOTTLENECK = 'allow-linear-bottleneck';

const meta: RuleMeta = {
  code: 'GL103',
  name: 'missing-nonlinearity',
  category: 'activation',
  defaultSeverity: 'warning',
  fixable: 'unsafe',
  summary: 'Dense/convolution layers stacked with no activation between them collapse into one linear map.',
  options: [
    {
      key: ALLOW_BOTTLENECK,
      type: 'boolean',
      default: true,
      description:
        'Do not report a single linear layer that is narrower than the next layer when that next layer applies a nonlinearity (a deliberate low-rank bottleneck).',
    },
  ],
  docs: `## What it does
Finds dense or convolution layers whose output reaches the next dense or convolution layer without
any activation in between. Dropout, flattening, reshaping, pooling and normalization layers do not
count as a nonlinearity (at inference they are linear or affine; max pooling only selects), and
neither does concatenation: a linear branch concatenated with another input straight into a dense
layer composes with it all the same (two-input models, Keras 1 \`Merge(mode='concat')\`). A residual
sum is not looked through. The
output layer without an activation (logits, regression) is fine: only a linear layer that feeds
another learning layer is reported, and not one whose output the model also returns (the
intermediate heatmaps of a stacked hourglass, remapped by a 1x1 convolution and fed back in).

A leaky ReLU whose negative slope is 1 is the identity, and counts as no activation at all. The usual
way to write one by accident is \`nn.LeakyReLU(True)\`, copied from \`nn.ReLU(True)\`: torch's first
parameter of \`LeakyReLU\` is \`negative_slope\`, not \`inplace\`, and Python's True is 1
(\`F.leaky_relu(x, True)\` likewise). Keras' \`LeakyReLU(alpha=1.0)\` / \`LeakyReLU(negative_slope=1.0)\` is
the identity too.

A linear bottleneck, a layer narrower than the next one that is immediately followed by a
nonlinearity (e.g. the 1x1 projection of an inverted residual block, even when its swish is written
by hand as \`x * x.sigmoid()\`), or a low-rank pair whose middle is narrower than both ends (a
factorized output layer: fewer weights than the one layer it composes to), is a deliberate design and
is not reported (option \`${ALLOW_BOTTLENECK}\`). In a longer chain the link out of such a narrow layer
(an autoencoder's linear latent code) is not reported either, and the layers after it are judged alone:
a decoder's first Dense reshaped straight into a transposed convolution still is. When the sizes are not known statically, such a pair is
not reported either. Nor is a depthwise convolution followed by a 1x1 convolution: a
depthwise-separable convolution, whose two halves train better without a nonlinearity between them.
Nor is an up-convolution: a strided transposed convolution (a learned upsampling) whose output, often
concatenated with a skip connection, feeds a convolution followed by a nonlinearity (U-Net's decoder).

## Why is this bad?
A layer without an activation computes W x + b. Two of them in a row compute W2 (W1 x + b1) + b2,
which is again a single affine map: the network is no more expressive than with one of the layers
removed, while it trains more parameters and a deeper (worse-conditioned) product of matrices. The
nonlinearity between layers is what lets depth add representational power. Usually the activation
was simply forgotten: Keras' \`Dense\` and \`Conv2D\` default to no activation, and \`nn.Linear\` never
has one.

## Example
\`\`\`python
model = keras.Sequential([
    layers.Flatten(input_shape=(28, 28)),
    layers.Dense(256),
    layers.Dense(128),
    layers.Dense(10, activation="softmax"),
])
\`\`\`

## Use instead
\`\`\`python
model = keras.Sequential([
    layers.Flatten(input_shape=(28, 28)),
    layers.Dense(256, activation="relu"),
    layers.Dense(128, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
\`\`\`
The fix (unsafe: it changes the model) adds \`activation='relu'\` in Keras, or an \`nn.ReLU()\` after
the layer inside \`nn.Sequential\`. Between layers joined by \`nn.LeakyReLU(True)\` (or
\`F.leaky_relu(x, True)\`) it writes \`inplace=True\` instead, what was probably meant: a leaky ReLU
with torch's default slope of 0.01.

## Options
- \`${ALLOW_BOTTLENECK}\` (default true): skip a narrower linear layer followed by a nonlinear one.

## References
- Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks.
- He, Zhang, Ren & Sun (2015), Delving Deep into Rectifiers.
`,
};

/** Layers that are affine (or a selection) and so do not break a linear chain. */
function affineOnly(layer: LayerIR): boolean {
  return (
    isDropoutLayer(layer) ||
    isShapeOnlyLayer(layer) ||
    isNormalizationLayer(layer) ||
    layer.kind === 'rescaling' ||
    (layer.kind === 'activation' && appliedActivation(layer) === 'linear')
  );
}

/** Learning layers connected only through affine layers, ending at the first nonlinear one. */
interface Chain {
  layers: LayerIR[];
  /**
   * Per link, the layer between layers[i] and layers[i + 1] (layers[i] itself when fused) whose activation
   * computes the identity though it is written as a leaky ReLU (`nn.LeakyReLU(True)`), or null.
   */
  identities: (LayerIR | null)[];
  /** Per link, the affine layers crossed between layers[i] and layers[i + 1], nearest first. */
  crossed: LayerIR[][];
}

/** The chain from `first` on. */
function chainFrom(graph: LayerGraph, first: LayerIR): Chain {
  const chain: Chain = { layers: [first], identities: [], crossed: [] };
  let current = first;
  for (;;) {
    // A layer the model also returns is a prediction the loss reads: what reads it on is a remap, not a collapse.
    if (current.returnedToo) return chain;
    const stop = walkForward(graph, current, affineOnly) ?? acrossConcatenation(graph, current);
    const next = stop?.layer;
    if (!stop || !next || !isLearningLayer(next)) return chain;
    chain.layers.push(next);
    chain.identities.push([current, ...stop.crossed].find((l) => disguisedIdentity(l) !== null) ?? null);
    chain.crossed.push(stop.crossed);
    if (appliedActivation(next) !== 'linear') return chain;
    current = next;
  }
}

/**
 * Concatenation is linear in each of its inputs: a linear branch concatenated (through affine layers)
 * straight into a learning layer composes with it (two-input models, Keras 1 `Merge(mode='concat')`).
 * Other merges are not crossed: a residual sum feeds its block's input through as well.
 */
function acrossConcatenation(graph: LayerGraph, from: LayerIR): ChainStop | null {
  let current = from;
  for (;;) {
    const next = graph.soleSuccessor(current);
    if (!next) return null;
    if (next.kind === 'concat') return walkForward(graph, next, affineOnly);
    if (!affineOnly(next) || graph.solePredecessor(next) !== current) return null;
    current = next;
  }
}

/**
 * True when the layer's output is squashed by a nonlinearity: its own, or one right after BN/dropout
 * (conv -> BN -> ReLU), or a product of two signals it feeds (a swish written by hand, x * x.sigmoid()).
 */
function followedByNonlinearity(graph: LayerGraph, layer: LayerIR): boolean {
  if (appliedActivation(layer) !== 'linear') return true;
  const next = walkForward(graph, layer, (l) => affineOnly(l) && !isLearningLayer(l))?.layer;
  if (next?.kind === 'multiply') {
    const fed = (input: LayerIR): boolean => input === layer || reaches(layer, (l) => graph.successors(l), (l) => l === input);
    return graph.predecessors(next).filter(fed).length >= 2;
  }
  return next !== undefined && next.kind === 'activation' && appliedActivation(next) !== 'linear';
}

function isBottleneck(graph: LayerGraph, chain: LayerIR[]): boolean {
  if (chain.length !== 2) return false;
  const [narrow, wide] = chain as [LayerIR, LayerIR];
  if (!followedByNonlinearity(graph, wide)) return false;
  // Unknown sizes: it may be a bottleneck, so it is not reported.
  return narrow.units === null || wide.units === null || narrow.units < wide.units;
}

/**
 * A low-rank link: a layer narrower than both what it reads and the layer it feeds, so fewer weights than
 * the one layer the pair composes to (a factorized output layer, an autoencoder's linear latent code).
 */
function isLowRank(first: LayerIR, second: LayerIR): boolean {
  const inner = first.units;
  return inner !== null && first.inFeatures !== null && second.units !== null && inner < first.inFeatures && inner < second.units;
}

/** The chain cut at its low-rank links (each part keeps its own links): the rest of a chain after a deliberate bottleneck is judged alone. */
function cutAtLowRank(chain: Chain): Chain[] {
  const parts: Chain[] = [];
  let from = 0;
  for (let i = 0; i < chain.layers.length - 1; i++) {
    if (!isLowRank(chain.layers[i]!, chain.layers[i + 1]!)) continue;
    parts.push(slice(chain, from, i));
    from = i + 1;
  }
  parts.push(slice(chain, from, chain.layers.length - 1));
  return parts;
}

/** Layers `from`..`to` of a chain with the links between them. */
function slice(chain: Chain, from: number, to: number): Chain {
  return { layers: chain.layers.slice(from, to + 1), identities: chain.identities.slice(from, to), crossed: chain.crossed.slice(from, to) };
}

/**
 * A depthwise convolution and the 1x1 convolution after it: a depthwise-separable convolution
 * (Xception, MobileNet), a deliberate factorization with far fewer weights than the full convolution
 * it composes to; a nonlinearity between the two trains worse (Chollet 2017).
 */
function isSeparable(chain: LayerIR[]): boolean {
  if (chain.length !== 2) return false;
  const [depthwise, pointwise] = chain as [LayerIR, LayerIR];
  if (!isConv(depthwise) || !isConv(pointwise)) return false;
  const perChannel = depthwise.conv.variant === 'depthwise' || (depthwise.conv.groups !== null && depthwise.conv.groups > 1 && depthwise.conv.groups === depthwise.inFeatures);
  return perChannel && pointwise.kernelSize !== null && pointwise.kernelSize.every((k) => k === 1) && (pointwise.conv.groups ?? 1) === 1;
}

/**
 * An up-convolution: a strided transposed convolution (a learned upsampling) read by a convolution that a
 * nonlinearity follows, usually across the concatenation with the encoder's skip (U-Net's decoder step,
 * Ronneberger et al. 2015). The pair changes resolution by design; there is no activation to forget.
 */
function isUpConvolution(graph: LayerGraph, chain: LayerIR[]): boolean {
  if (chain.length !== 2) return false;
  const [up, conv] = chain as [LayerIR, LayerIR];
  if (!isConv(up) || !isConv(conv) || up.conv.variant !== 'transpose') return false;
  const strided = up.conv.strides !== null && up.conv.strides.some((s) => s > 1);
  return strided && followedByNonlinearity(graph, conv);
}

/** `nn.Linear(...)` item of nn.Sequential: insert `, nn.ReLU()` after it. */
function torchSequentialInsert(model: ModelIR, text: string, layer: LayerIR): TextEdit | null {
  const prefix = /^(.*\.)\w+$/.exec(layer.className)?.[1];
  if (model.style !== 'torch-sequential' || layer.unrolled || !prefix) return null;
  const starts = lineStarts(text);
  const modelText = text.slice(offsetAt(starts, model.range.start), offsetAt(starts, model.range.end));
  if (modelText.includes('OrderedDict')) return null;
  const end = offsetAt(starts, layer.range.end);
  const following = /^\s*(?:#[^\n]*\n\s*)*([,)])/.exec(text.slice(end));
  if (!following) return null;
  return { file: model.file, range: rangeOf(starts, end, end), newText: `, ${prefix}ReLU()` };
}

/**
 * `nn.LeakyReLU(True)` / `F.leaky_relu(x, True)`: the offsets of the `True` torch takes as the negative
 * slope (the first argument of the module, the second of the function), written positionally; null otherwise.
 */
function positionalTrueSlope(model: ModelIR, text: string | undefined, identity: LayerIR): { start: number; end: number } | null {
  const act = identity.activation;
  if (model.framework !== 'torch' || text === undefined || act?.name !== 'leaky_relu' || act.range === null) return null;
  const starts = lineStarts(text);
  const call = parseCallArguments(text, offsetAt(starts, act.range.start), offsetAt(starts, act.range.end));
  const index = act.source === 'functional' ? 1 : 0;
  const arg = call?.args[index];
  if (!call || !arg || call.args.slice(0, index + 1).some((a) => a.keyword !== null || a.unpacked) || text.slice(arg.start, arg.end) !== 'True') return null;
  return call.args.some((a) => a.keyword === 'inplace' || a.unpacked) || call.args.length > index + 1 ? null : arg;
}

/** One link of the chain made nonlinear: `True` -> `inplace=True` where a positional True made the identity, else relu after the linear layer. */
interface LinkEdit {
  layer: LayerIR;
  rewrite: LayerIR | null;
}

function linkEdits(model: ModelIR, chain: Chain, text: string | undefined): LinkEdit[] {
  return chain.layers.slice(0, -1).map((layer, i) => {
    const identity = chain.identities[i] ?? null;
    return { layer, rewrite: identity && positionalTrueSlope(model, text, identity) ? identity : null };
  });
}

function nonlinearityFix(model: ModelIR, links: LinkEdit[], context: RuleContext): Fix | null {
  const text = context.sourceText(model.file);
  if (text === undefined || !editsStayWithin(model.layers, links.map((l) => l.rewrite ?? l.layer))) return null;
  const starts = lineStarts(text);
  const edits = new Map<string, TextEdit>();
  for (const { layer, rewrite } of links) {
    const slope = rewrite ? positionalTrueSlope(model, text, rewrite) : null;
    const edit = slope
      ? { file: model.file, range: rangeOf(starts, slope.start, slope.end), newText: 'inplace=True' }
      : model.framework === 'keras'
        ? kerasActivationEdit(model.file, text, layer, 'relu')
        : torchSequentialInsert(model, text, layer);
    if (!edit) return null;
    edits.set(rangeKey(edit.range), edit);
  }
  const title = links.every((l) => l.rewrite) ? 'Pass inplace=True as a keyword (a leaky ReLU of slope 0.01)' : 'Add a relu activation after the linear layers';
  return { title, safety: 'unsafe', edits: [...edits.values()] };
}

function whatIfOps(model: ModelIR, links: LinkEdit[]): IrEditOp[] {
  return links.map(({ layer, rewrite }) =>
    rewrite
      ? { op: 'set-activation', layerId: rewrite.id, activation: 'leaky_relu' }
      : model.framework === 'keras'
        ? { op: 'set-activation', layerId: layer.id, activation: 'relu' }
        : { op: 'insert-after', afterLayerId: layer.id, kind: 'activation', activation: 'relu' },
  );
}

/**
 * The message: the first link, and what makes a leaky ReLU in the chain the identity. A positional True
 * (`nn.LeakyReLU(True)`, copied from `nn.ReLU(True)`) is torch's negative_slope, not inplace.
 */
function chainMessage(model: ModelIR, chain: Chain, text: string | undefined): string {
  const [first, second] = chain.layers as [LayerIR, LayerIR];
  // Normalization between them is affine too (at inference exactly, in training per batch): say it is there.
  const norms = (chain.crossed[0] ?? []).filter(isNormalizationLayer);
  const noun = (l: LayerIR) => (l.kind === 'batchnorm' ? 'BatchNorm' : l.kind === 'layernorm' ? 'LayerNorm' : 'normalization');
  const directly = norms.length > 0 ? `with only ${norms.map((l) => layerLabel(l, noun(l))).join(' and ')} (affine) between` : 'directly';
  const count = chain.layers.length > 2 ? ` (${chain.layers.length} layers in a row)` : '';
  const collapse = 'compose into a single linear map, so the extra depth adds parameters but no expressive power';
  const index = chain.identities.findIndex((l) => l !== null);
  const identity = chain.identities[index];
  const act = identity ? disguisedIdentity(identity) : null;
  if (!identity || !act) return `${layerLabel(first)} has no activation and feeds ${layerLabel(second)} ${directly}${count}: the layers ${collapse}. Add a nonlinearity such as relu between them.`;
  const fromTrue = positionalTrueSlope(model, text, identity) !== null;
  const why = fromTrue ? 'sets negative_slope=1.0 (True is its slope argument, not inplace)' : 'has a negative slope of 1';
  const advice = fromTrue ? 'Pass inplace=True as a keyword, as was probably meant.' : 'Use a slope below 1, such as 0.2, or another nonlinearity.';
  const through = identity === first ? `its activation ${act.spelling}` : act.spelling;
  if (index === 0) return `${layerLabel(first)} feeds ${layerLabel(second)}${count} through ${through}, which ${why}: the identity. The layers ${collapse}. ${advice}`;
  const owner = chain.layers[index]!;
  const where = identity === owner ? `the activation of ${layerLabel(owner)}, ${act.spelling},` : `${act.spelling} after ${layerLabel(owner)}`;
  return `${layerLabel(first)} has no activation and feeds ${layerLabel(second)} ${directly}${count}: the layers ${collapse}; ${where} ${why}: the identity. ${advice}`;
}

export const rule: Rule = {
  meta,
  check(model, context) {
    const graph = layerGraph(model);
    const allowBottleneck = context.option<boolean>(ALLOW_BOTTLENECK);
    const inChain = new Set<string>();
    const chains: Chain[] = [];
    for (const layer of model.layers) {
      if (inChain.has(layer.id) || !isLearningLayer(layer) || appliedActivation(layer) !== 'linear') continue;
      const whole = chainFrom(graph, layer);
      whole.layers.forEach((l) => inChain.add(l.id));
      for (const chain of allowBottleneck ? cutAtLowRank(whole) : [whole]) {
        const layers = chain.layers;
        if (layers.length >= 2 && !(allowBottleneck && isBottleneck(graph, layers)) && !isSeparable(layers) && !isUpConvolution(graph, layers)) chains.push(chain);
      }
    }
    // Unrolled copies of one loop body make one chain per copy; report each written call once.
    const firstCalls = new Set<string>();
    const text = context.sourceText(model.file);
    return chains
      .filter(({ layers }) => !firstCalls.has(rangeKey(layers[0]!.range)) && firstCalls.add(rangeKey(layers[0]!.range)))
      .map((chain) => {
        const links = linkEdits(model, chain, text);
        const fix = nonlinearityFix(model, links, context);
        const rewritten = links.every((l) => l.rewrite);
        return makeFinding(meta, model, context, {
          message: chainMessage(model, chain, text),
          range: chain.layers[0]!.range,
          related: chain.layers.slice(1).map((l) => ({ location: { file: model.file, range: l.range }, message: `${layerLabel(l)} continues the linear chain` })),
          fixes: fix ? [fix] : [],
          whatIf: { title: rewritten ? 'leaky relu (slope 0.01) between the stacked linear layers' : 'relu between the stacked linear layers', ops: whatIfOps(model, links) },
        });
      });
  },
};
