/**
 * Hover Markdown for initializers, activations and normalization/dropout layers. The language
 * server calls these with the IR node under the cursor; they never see source text, so the same
 * content serves the editor, the CLI (`explain`) and tests. Knowledge-base text is trusted Markdown;
 * anything that comes from the analyzed file (names, spellings) goes through `code()`.
 */
import { isDropout, isNormalization } from '../layers';
import type { ActivationIR, InitializerIR, LayerIR, ModelIR } from '../ir';
import { activationInfo, isIdentityActivation, negativeSlope, recommendedInit, targetStd } from './activations';
import { code, formatNumber, formatRatio } from './format';
import { approxRatio, flowReference } from '../gradient-flow';
import { modelPrediction } from './propagation';
import { flowOutliersClause } from './flow-outliers';
import { familyTitle, initializerDoc, initializerStats, initializerTitle, type InitializerStats } from './initializers';
import { assessKernelInit, type InitAssessment } from './judgement';
import { layerInfo } from './layers';
import { binaryOnSoftmax, doubledOutputs, misreadOutputs } from '../losses';
import { consumersOf, effectiveActivation, isWeightLayer } from './model-walk';
import { citeMarkdown, type ReferenceKey } from './references';

/** Ratio beyond which the hover calls a scale "off" (GL203's default threshold). */
const SCALE_TOLERANCE = 3;

function references(keys: readonly ReferenceKey[]): string {
  const unique = [...new Set(keys)];
  return unique.length ? `References: ${unique.map(citeMarkdown).join(', ')}` : '';
}

function layerLabel(layer: LayerIR): string {
  const sizes: string[] = [];
  if (layer.inFeatures !== null && layer.units !== null) sizes.push(`${layer.inFeatures} → ${layer.units}`);
  else if (layer.units !== null) sizes.push(`${layer.units} units`);
  if (layer.kernelSize) sizes.push(`kernel ${layer.kernelSize.join('×')}`);
  return `${code(layer.name)} (${code(layer.className)}${sizes.length ? `, ${sizes.join(', ')}` : ''})`;
}

function lineOf(layer: LayerIR): string {
  return `line ${layer.range.start.line + 1}`;
}

function statsLines(stats: InitializerStats): string[] {
  const lines: string[] = [];
  if (stats.distribution === 'constant' && stats.mean !== null) {
    lines.push(`every weight = ${formatNumber(stats.mean)} (std 0)`);
    return lines;
  }
  if (stats.limit !== null) lines.push(`uniform limit = ±${formatNumber(stats.limit)}`);
  else if (stats.bounds) lines.push(`uniform on [${formatNumber(stats.bounds[0])}, ${formatNumber(stats.bounds[1])}]`);
  if (stats.stddevParam !== null && stats.std !== null) lines.push(`normal stddev parameter ${formatNumber(stats.stddevParam)}, truncated → effective std ${formatNumber(stats.std)}`);
  else if (stats.std !== null) lines.push(`${stats.distribution === 'uniform' ? 'std' : `${stats.distribution.replace('_', ' ')} std`} = ${formatNumber(stats.std)}`);
  if (stats.mean !== null && stats.mean !== 0 && stats.rms !== null) lines.push(`mean ${formatNumber(stats.mean)}, so the RMS that sets the signal scale is ${formatNumber(stats.rms)}`);
  return lines;
}

function activationSource(assessment: InitAssessment, layer: LayerIR): string {
  const eff = assessment.effective;
  if (!eff.activation) return eff.uncertain ? 'no activation could be determined (branching or unknown layer)' : 'none (a linear output)';
  const via = eff.appliedBy && eff.appliedBy.id !== layer.id ? ` — applied by ${code(eff.appliedBy.className)} on ${lineOf(eff.appliedBy)}` : '';
  return `${code(eff.activation.name)}${via}`;
}

function verdict(assessment: InitAssessment, init: InitializerIR, layer: LayerIR): string {
  const rec = assessment.recommendation;
  const instead = rec ? ` Use ${code(rec.spelling)} instead (${rec.why}).` : '';
  const act = code(assessment.activation);
  if (assessment.effective.normalizedBy) {
    return `ℹ️ A ${code(assessment.effective.normalizedBy.className)} follows this layer, so the weight scale is normalized away before the activation; the initializer matters little here (Ioffe & Szegedy 2015).`;
  }
  switch (assessment.mismatch) {
    case 'he-on-saturating':
      return `⚠️ He/Kaiming doubles the variance to compensate for a rectifier, but ${act} is not one: it pushes ${act} units towards saturation, where gradients vanish.${instead}`;
    case 'not-lecun-on-selu':
      return `⚠️ SELU self-normalizes only with LeCun weights, Var(W) = 1/fan_in (Klambauer et al. 2017); ${familyTitle(assessment.family)} moves it off its fixed point.${instead}`;
    case 'small-on-relu':
      return `ℹ️ ${familyTitle(assessment.family)} gives Var(W) ≤ 1/fan_in, but ${act} zeroes half of its input, so the signal's second moment shrinks at every such layer; harmless in a shallow net, vanishing in a deep ReLU stack.${instead}`;
    case 'nonlinearity-disagrees':
      return `⚠️ ${code(`nonlinearity='${assessment.writtenNonlinearity ?? ''}'`)} does not match this layer's activation ${act}.${instead}`;
    default:
      break;
  }
  if (assessment.family === 'constant') {
    return `⚠️ Every weight starts equal, so every unit of this layer computes the same thing and gets the same update; a zero kernel also passes no gradient to the layers below. Fine for biases and for the last layer; for a hidden layer${instead ? instead.replace(/^ Use/, ' use') : ' use a random initializer.'}`;
  }
  if (assessment.ratio === null || !assessment.target) {
    if (init.name === 'unknown') return 'The initializer could not be resolved statically, so nothing is judged.';
    if (assessment.stats.distribution === 'identity') return 'An identity initialization preserves the signal of a square layer exactly; there is no std to compare.';
    const sizesKnown = layer.fanIn !== null && (assessment.target?.convention !== 'glorot' || layer.fanOut !== null);
    return sizesKnown
      ? "Some of the initializer's arguments could not be evaluated statically, so the numbers cannot be checked."
      : 'The layer sizes are not known statically, so the numbers cannot be checked.';
  }
  const r = assessment.ratio;
  const d = assessment.deviation ?? r;
  if (d > SCALE_TOLERANCE || d < 1 / SCALE_TOLERANCE) {
    return `⚠️ The weight scale is ${formatRatio(r)} the variance-preserving std: signals ${r > 1 ? 'explode (or saturate the activation)' : 'shrink'} layer after layer.${instead}`;
  }
  if (d === 1 && (r > 1.5 || r < 1 / 1.5)) return `✅ Between the fan_in and the fan_out version of the target (${formatRatio(r)} the fan_in value); either preserves variance (He et al. 2015).`;
  if (r > 1.5 || r < 1 / 1.5) return `✅ Within tolerance (${formatRatio(r)} the target; flagged beyond ${SCALE_TOLERANCE}×).`;
  return `✅ Matches this layer's activation (${formatRatio(r)} the target).`;
}

function roleOf(layer: LayerIR, init: InitializerIR): 'kernel' | 'bias' | 'recurrent' {
  if (init === layer.biasInit) return 'bias';
  if (init === layer.recurrentInit) return 'recurrent';
  return 'kernel';
}

/**
 * Hover for an initializer (Keras string or class, PyTorch `nn.init` call, or a framework default
 * shown on the layer): formula, the variance it aims for, Keras vs PyTorch semantics, the
 * activations it suits, and this layer's numbers with a verdict.
 */
export function describeInitializerHover(layer: LayerIR, init: InitializerIR, model: ModelIR): string {
  const d = initializerDoc(init.name);
  const role = roleOf(layer, init);
  const out: string[] = [];
  // This layer's numbers come first: a hover that opens above the line would otherwise need scrolling to reach them.
  out.push(`#### This layer: ${layerLabel(layer)} — ${role} initializer`);
  if (role === 'recurrent') {
    out.push('Recurrent kernels multiply the state at every time step; an orthogonal matrix keeps its norm (Saxe et al. 2014, Pascanu et al. 2013).');
  } else {
    const fans = `fan_in = ${layer.fanIn ?? 'unknown'}, fan_out = ${layer.fanOut ?? 'unknown'}`;
    const stats = initializerStats(init, layer.fanIn, layer.fanOut);
    out.push([`- ${fans}`, ...statsLines(stats).map((l) => `- ${l}`)].join('\n'));
    if (role === 'kernel' && !isNormalization(layer)) {
      const assessment = assessKernelInit(layer, init, model);
      const facts = [`- activation: ${activationSource(assessment, layer)}`];
      if (assessment.target) {
        const target = assessment.target;
        facts.push(`- variance-preserving std for ${code(assessment.activation)}: ${formatNumber(target.std)} (Var(W) = ${target.varianceFormula})`);
        if (target.convention !== 'glorot' && layer.fanIn && layer.fanOut && layer.fanOut !== layer.fanIn) {
          const byFanOut = target.std * Math.sqrt(layer.fanIn / layer.fanOut);
          const spelled = model.framework === 'torch' ? "PyTorch `mode='fan_out'`" : "Keras `VarianceScaling(mode='fan_out')`";
          facts.push(`- normalized by fan_out instead (${spelled}): ${formatNumber(byFanOut)}; either preserves variance, forward or backward (He et al. 2015)`);
        }
      }
      out.push(facts.join('\n'));
      out.push(verdict(assessment, init, layer));
    } else if (role === 'kernel') {
      // A normalization layer's weight is its scale γ, not a kernel: γ = 1 is the standard start, and
      // constant-init warnings apply to weighted kernels only.
      out.push(stats.distribution === 'constant' && stats.mean === 1
        ? 'This is the normalization\'s scale γ: γ = 1 (and β = 0) is the standard initialization, so the layer starts as a plain standardization.'
        : 'This is the normalization\'s scale γ, not a kernel: it multiplies the normalized output, whose variance no longer depends on the weights before it.');
    } else {
      out.push(init.name === 'zeros' ? 'Zero biases are the standard choice: the random weights already break symmetry.' : 'Biases do not multiply the signal, so their scale matters far less than the kernel\'s.');
    }
  }
  out.push(`### ${initializerTitle(init)}${init.explicit ? '' : ' *(framework default)*'}`);
  const rows: string[] = [];
  if (d.keras) rows.push(`| Keras | ${cell(code(d.keras.spelling))} | ${cell(d.keras.formula)} |`);
  if (d.torch) rows.push(`| PyTorch | ${cell(code(d.torch.spelling))} | ${cell(d.torch.formula)} |`);
  if (rows.length) out.push(['| | spelling | formula |', '|---|---|---|', ...rows].join('\n'));
  out.push(`**Aims for** ${d.variance}: ${d.aim}.`);
  if (d.difference) out.push(`**Keras vs PyTorch:** ${d.difference}`);
  out.push(`**Suits:** ${d.suits}.`);
  const refs = references(d.references);
  if (refs) out.push(refs);
  return out.join('\n\n');
}

/** The weight layers whose output this activation acts on. */
function layersFeeding(act: ActivationIR, layer: LayerIR, model: ModelIR): LayerIR[] {
  if (isWeightLayer(layer) && layer.activation === act) return [layer];
  return model.layers.filter((l) => isWeightLayer(l) && effectiveActivation(l, model).appliedBy?.id === layer.id);
}

/** Text for a Markdown table cell: a `|` (as in `|x| > 4.6`) would end the cell, so it is escaped (also inside code spans, as GFM requires). */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** Hover for an activation (string, function, layer or functional call): its shape, gradient bound, centring, saturation and the init that suits it. */
export function describeActivationHover(act: ActivationIR, layer: LayerIR, model: ModelIR): string {
  const a = activationInfo(act.name);
  const out: string[] = [];
  const feeding = layersFeeding(act, layer, model);
  for (const weightLayer of feeding.slice(0, 3)) {
    const init = weightLayer.kernelInit;
    if (!init) continue;
    const assessment = assessKernelInit(weightLayer, init, model);
    const std = assessment.stats.rms;
    const target = targetStd(act, weightLayer.fanIn, weightLayer.fanOut, model.framework);
    const numbers = std !== null && target ? `: weight scale ${formatNumber(std)} vs variance-preserving ${formatNumber(target.std)} (${formatRatio(std / target.std)})` : '';
    out.push(`**Weights feeding it:** ${layerLabel(weightLayer)} with ${code(init.explicit ? init.spelling : initializerTitle(init))}${numbers}.`);
  }
  out.push(`### ${a.title}`);
  out.push(code(a.formula));
  const slope = act.name === 'leaky_relu' || act.name === 'prelu' ? negativeSlope(act, model.framework) : null;
  const table = [
    '| | |',
    '|---|---|',
    `| range | ${cell(a.range)} |`,
    `| max derivative | ${cell(a.maxDerivative)} |`,
    `| zero-centred | ${a.zeroCentred ? 'yes' : '**no**'} — ${cell(a.zeroCentredNote)} |`,
    `| saturation | ${cell(a.saturation)} |`,
  ];
  if (slope !== null) table.push(`| negative slope here | ${formatNumber(slope)}${act.params.alpha === undefined && act.params.negative_slope === undefined ? ` (${model.framework === 'torch' ? 'PyTorch' : 'Keras'} default)` : ''} |`);
  out.push(table.join('\n'));
  out.push(a.notes);
  if (act.name !== 'linear' && isIdentityActivation(act, model.framework)) out.push(identityLine(model));
  const index = model.layers.indexOf(layer);
  const doubled = doubledOutputs(model).find((d) => d.first.kind === 'layer' && d.first.index === index);
  if (doubled) out.push(`**Here:** its loss, ${code(doubled.lossWords)}, applies a ${doubled.twice} of its own to this output, so the loss reads ${doubled.twice}(${doubled.twice}(x)) (GL105): give the loss the logits.`);
  const misread = misreadLine(model, index, `this ${act.name}`);
  if (misread) out.push(misread);
  const binary = binaryOnSoftmax(model).find((b) => b.output.activationLayer === index);
  if (binary) out.push(`**Here:** its loss, ${code(binary.lossWords)}, scores each of the ${binary.classes} classes as an independent 0/1 label, which this softmax does not give (GL107): its gradient is about 1/${binary.classes - 1}^2 of cross-entropy's; use a cross-entropy over the classes.`);
  const rec = recommendedInit(act, model.framework);
  if (rec) out.push(`**Suited initializer:** Keras ${code(rec.keras)} · PyTorch ${code(rec.torch)} — ${rec.why}.`);
  const refs = references(a.references);
  if (refs) out.push(refs);
  return out.join('\n\n');
}

/** A leaky ReLU of slope 1 (GL103's disguised identity): what it computes, and torch's positional trap. */
function identityLine(model: ModelIR): string {
  const trap = model.framework === 'torch'
    ? ` PyTorch's first parameter of ${code('nn.LeakyReLU')} (the second of ${code('F.leaky_relu')}) is negative_slope: ${code('nn.LeakyReLU(True)')} passes True, 1.0, as the slope; write ${code('inplace=True')} as a keyword.`
    : '';
  return `**Here:** a negative slope of 1 makes it the identity, f(x) = x: the layers around it compose into one linear map (GL103).${trap}`;
}

/** GL106's line for the layer that ends an output its loss reads as (log-)probabilities it does not give; null elsewhere. */
function misreadLine(model: ModelIR, index: number, what: string): string | null {
  const misread = misreadOutputs(model).find((m) => !m.loss.appliedFirst && m.output.activationLayer === index);
  if (!misread) return null;
  const otherwise = misread.expects === 'log_softmax' ? '' : model.framework === 'torch' ? ' or use BCEWithLogitsLoss' : ' or pass from_logits=True';
  return `**Here:** its loss, ${code(misread.lossWords)}, reads ${misread.expects === 'log_softmax' ? 'log-probabilities' : 'probabilities'}, which ${what} does not give (GL106): end the output in a ${misread.expects}${otherwise}.`;
}

function paramLine(value: number | null | undefined, label: string): string | null {
  return value === null || value === undefined ? null : `- ${label}: ${code(String(value))}`;
}

function contextNotes(layer: LayerIR, model: ModelIR): string[] {
  const notes: string[] = [];
  const index = model.layers.findIndex((l) => l.id === layer.id);
  const previous = model.isGraph ? model.layers.filter((l) => layer.inputs.includes(l.id)) : index > 0 ? [model.layers[index - 1]!] : [];
  const next = consumersOf(layer, model);
  const usesSelu = model.layers.some((l) => l.activation?.name === 'selu');
  if (layer.kind === 'batchnorm' || layer.kind === 'layernorm' || layer.kind === 'groupnorm') {
    // Redundant only when the normalization sees the weighted layer's pre-activation output: with a
    // nonlinearity in between (its own `activation=` or a separate layer), the bias shifts what the activation sees.
    const prevWeight = previous.find((l) => isWeightLayer(l) && (!l.activation || isIdentityActivation(l.activation, model.framework)));
    if (prevWeight?.useBias) notes.push(`The bias of ${code(prevWeight.name)} is redundant here: the normalization subtracts the mean and β adds its own shift.`);
    const prevAct = previous.find((l) => (l.kind === 'activation' && !l.activation) || (l.activation && !isIdentityActivation(l.activation, model.framework)));
    if (prevAct) notes.push('Here it normalizes the output of an activation; the original paper normalizes the pre-activation (linear → BN → activation).');
    if (previous.some((l) => l.kind === 'dropout')) notes.push('Dropout right before it makes the batch statistics seen in training differ from inference.');
    if (usesSelu) notes.push('This model uses SELU, which normalizes itself; BatchNorm interferes with its fixed point.');
  }
  if (layer.kind === 'dropout') {
    if (usesSelu) notes.push('This model uses SELU: plain Dropout breaks its mean/variance fixed point; use AlphaDropout.');
    if (next.some((l) => l.kind === 'batchnorm')) notes.push('A BatchNorm follows: it sees a different variance in training than at inference.');
  }
  return notes;
}

/**
 * Hover for a layer: normalization and dropout layers get what they compute, their effect on
 * gradients and their placement; weight layers show their kernel initializer (including a framework
 * default the user never wrote); activation layers show the activation.
 */
export function describeLayerHover(layer: LayerIR, model: ModelIR): string {
  const info = layerInfo(layer.kind);
  if (info) {
    // This layer's numbers and notes first, then the general explanation (see describeInitializerHover).
    const out: string[] = [];
    const normPredicted = describePredictionSection(layer, model);
    if (normPredicted) out.push(normPredicted);
    const params = [
      paramLine(isDropout(layer) ? layer.rate : null, 'drop probability'),
      paramLine(isNormalization(layer) ? layer.norm.momentum : null, 'momentum'),
      paramLine(isNormalization(layer) ? layer.norm.epsilon : null, 'epsilon'),
    ].filter((l): l is string => l !== null);
    if (params.length) out.push(params.join('\n'));
    const notes = contextNotes(layer, model);
    if (notes.length) out.push(`**In this model:** ${notes.join(' ')}`);
    out.push(`### ${info.title} — ${code(layer.className)}`, info.computes, `**Effect:** ${info.effect}`, `**Placement:** ${info.placement}`, `**Keras vs PyTorch:** ${info.frameworks}`);
    const refs = references(info.references);
    if (refs) out.push(refs);
    return out.join('\n\n');
  }
  const predicted = describePredictionSection(layer, model);
  const withPrediction = (text: string) => (predicted ? `${predicted}\n\n${text}` : text);
  if (layer.kind === 'activation' && layer.activation) return withPrediction(describeActivationHover(layer.activation, layer, model));
  if (isWeightLayer(layer) && layer.kernelInit) {
    const misread = layer.activation && layer.activation.name !== 'linear' ? null : misreadLine(model, model.layers.indexOf(layer), 'this layer, with no activation,');
    return withPrediction([describeInitializerHover(layer, layer.kernelInit, model), misread].filter((part) => part !== null).join('\n\n'));
  }
  return withPrediction(`### ${code(layer.className)}\n\nLayer kind: ${layer.kind}.`);
}

/**
 * What the signal-propagation model predicts for `layer` at initialization (standardized inputs):
 * its output std, its weight gradient against the output layer's, and what its initializer does to
 * them. When the model cannot be propagated the reason is shown instead; null for a layer the
 * prediction does not cover.
 */
export function describePredictionSection(layer: LayerIR, model: ModelIR): string | null {
  const prediction = modelPrediction(model);
  if (!prediction.ok) return `#### Predicted at initialization\nNo prediction for this model: ${code(prediction.reason)}.`;
  const own = prediction.layers.find((l) => l.layerId === layer.id);
  if (!own) return null;
  const lines = [`- output std ${formatNumber(own.predictedStd)} (mean ${formatNumber(own.predictedMean)})`];
  if (own.log10GradRatio !== null) lines.push(`- weight-gradient norm ${approxRatio(10 ** own.log10GradRatio)} of the output layer's`);
  if (isWeightLayer(layer) && layer.kernelInit && own.qIn > 0 && layer.fanIn) {
    const stats = initializerStats(layer.kernelInit, layer.fanIn, layer.fanOut);
    if (stats.rms !== null) {
      const gain = layer.fanIn * stats.rms * stats.rms;
      lines.push(`- its initializer (${code(initializerTitle(layer.kernelInit))}) gives fan_in · E[w²] = ${formatNumber(gain)}: the pre-activation's second moment is ${formatNumber(gain)}× the input's${own.chi !== null ? `, and the squared gradient crossing the layer is multiplied by chi = ${formatNumber(own.chi)}` : ''}`);
    }
  } else if (own.chi !== null) {
    lines.push(`- the squared gradient crossing it is multiplied by ${formatNumber(own.chi)}`);
  }
  if (prediction.log10FirstLastRatio !== null && prediction.grade !== null) {
    lines.push(`- model: the first weighted layer gets ${approxRatio(10 ** prediction.log10FirstLastRatio)} of ${flowReference(prediction.against, prediction.measure)}${flowOutliersClause(prediction)} (${prediction.grade})`);
  }
  const assumed = prediction.assumptions.length ? ` Assuming ${prediction.assumptions.join(', ')}.` : '';
  return `#### Predicted at initialization\nMean-field signal propagation from the code, standardized inputs.${assumed}\n\n${lines.join('\n')}`;
}
