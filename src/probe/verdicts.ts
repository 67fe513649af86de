/**
 * Verdicts from the measured numbers, with the thresholds of ProbeThresholds (documented in
 * docs/probe.md). Each verdict names its layers and carries the numbers it rests on.
 */
import { measureQualifier, UNIT_WEIGHT_WHY } from '../shared/gradient-flow';
import type { ProbeLayerResult, ProbeNotice, ProbeThresholds, ProbeVerdict } from '../shared/probe';
import { formatGradNorm, formatPercent, median } from '../shared/probe-format';
import { flowPathLayers, measuredFlow, type MeasuredFlow } from '../shared/probe-flow';

export interface VerdictInput {
  layers: ProbeLayerResult[];
  loss: number[];
  /** Per layer id: fraction of units duplicating another unit after training. */
  symmetry: Map<string, number>;
  thresholds: ProbeThresholds;
}

function sci(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 0.01 && Math.abs(value) < 1000 ? value.toFixed(3).replace(/\.?0+$/, '') : value.toExponential(1);
}

function label(layer: ProbeLayerResult): string {
  return `${layer.name} (line ${layer.line})`;
}

function nonFinite(input: VerdictInput): ProbeVerdict | null {
  const lossStep = input.loss.findIndex((l) => !Number.isFinite(l));
  const hit = input.layers.filter((l) => l.nonFinite.some((v) => v > 0));
  if (lossStep < 0 && hit.length === 0) return null;
  const firstOf = (l: ProbeLayerResult) => l.nonFinite.findIndex((v) => v > 0);
  const firstStep = Math.min(...hit.map(firstOf), lossStep < 0 ? Infinity : lossStep);
  const origin = hit.find((l) => firstOf(l) === firstStep);
  const where = origin ? `, first in ${label(origin)}` : '';
  return {
    kind: 'non-finite',
    severity: 'error',
    layers: hit.map((l) => l.name),
    message: `NaN/Inf appeared at step ${firstStep + 1}${where}: training diverged.`,
    evidence: { step: firstStep + 1, lossAtStep: lossStep < 0 ? null : lossStep + 1, lastFiniteLoss: [...input.loss].reverse().find(Number.isFinite) ?? null },
  };
}

/** Median gradient norm per path layer and their judgement (the panel's bands read the same). */
function depthProfile(input: VerdictInput): MeasuredFlow<ProbeLayerResult> | null {
  return measuredFlow(input.layers, input.thresholds);
}

function ratioText(profile: MeasuredFlow<ProbeLayerResult>): string {
  const first = profile.medians[0]!;
  const last = profile.medians[profile.reference]!;
  const [what, why] = profile.measure === 'gradient' ? ['norm', ''] : ['|∇W|·|W|', `: ${UNIT_WEIGHT_WHY}`];
  return `the first layer ${label(profile.path[0]!)} gets ${sci(profile.ratio)} of the gradient norm of the last hidden layer ${label(profile.path[profile.reference]!)}${measureQualifier(profile.measure)} (median ${what} ${formatGradNorm(first)} vs ${formatGradNorm(last)}${why})`;
}

function vanishing(input: VerdictInput): ProbeVerdict | null {
  const profile = depthProfile(input);
  const t = input.thresholds;
  if (!profile || profile.vanishing.length === 0) return null;
  const starved = profile.vanishing.map((i) => profile.path[i]!);
  return {
    kind: 'vanishing',
    severity: 'warning',
    layers: starved.map((l) => l.name),
    message: `Gradients vanish towards the input: ${ratioText(profile)}; ${starved.length} layer(s) below ${sci(t.vanishingRatio)} of it barely learn.`,
    evidence: { firstLastRatio: profile.ratio, firstNorm: profile.medians[0]!, lastHiddenNorm: profile.medians[profile.reference]!, medianGradNorm: profile.medians, threshold: t.vanishingRatio },
  };
}

/** Information: the first layers learn an order of magnitude slower, without vanishing. */
function attenuated(input: VerdictInput): ProbeVerdict | null {
  const profile = depthProfile(input);
  if (!profile || profile.grade !== 'attenuated' || profile.vanishing.length > 0) return null;
  return {
    kind: 'attenuated',
    severity: 'information',
    layers: [profile.path[0]!.name],
    message: `Gradients are attenuated but do not vanish: ${ratioText(profile)} (vanishing below ${sci(input.thresholds.vanishingRatio)}).`,
    evidence: { firstLastRatio: profile.ratio, medianGradNorm: profile.medians, threshold: input.thresholds.attenuatedRatio },
  };
}

function exploding(input: VerdictInput): ProbeVerdict | null {
  const profile = depthProfile(input);
  const t = input.thresholds;
  const path = flowPathLayers(input.layers);
  const growth = path.map((l) => {
    const start = l.gradNorm[0]!;
    const peak = Math.max(...l.gradNorm.filter(Number.isFinite));
    return start > 0 && peak > t.explodingMinNorm ? peak / start : 0;
  });
  const grown = path.filter((_, i) => growth[i]! > t.explodingGrowth);
  const deep = profile !== null && profile.exploding.length > 0;
  if (!deep && grown.length === 0) return null;
  const parts: string[] = [];
  let layers: ProbeLayerResult[] = grown;
  if (deep) {
    layers = profile.exploding.map((i) => path[i]!);
    parts.push(`${ratioText(profile)}; ${layers.length} layer(s) above ${t.explodingRatio}x of it`);
  }
  if (grown.length > 0) {
    const worst = growth.indexOf(Math.max(...growth));
    parts.push(`gradient norms grew up to ${sci(growth[worst]!)}x during training in ${label(path[worst]!)}`);
  }
  return {
    kind: 'exploding',
    severity: 'warning',
    layers: [...new Set([...layers, ...grown].map((l) => l.name))],
    message: `Gradients explode: ${parts.join('; ')}.`,
    evidence: { firstLastRatio: profile?.ratio ?? null, growth, medianGradNorm: profile?.medians ?? null, ratioThreshold: t.explodingRatio, growthThreshold: t.explodingGrowth },
  };
}

function fractionVerdict(input: VerdictInput, kind: 'dead-units' | 'saturation'): ProbeVerdict | null {
  const t = input.thresholds;
  const pick = (l: ProbeLayerResult) => (kind === 'dead-units' ? l.dead : l.saturated);
  const measured = input.layers.flatMap((l) => {
    const values = pick(l);
    return values === null ? [] : [{ layer: l, value: median(values) }];
  });
  const over = measured.filter((m) => (kind === 'dead-units' ? m.value >= t.deadFraction : m.value > t.saturatedFraction));
  if (over.length === 0) return null;
  const list = over.map((m) => `${label(m.layer)} ${formatPercent(m.value)}`).join(', ');
  const message =
    kind === 'dead-units'
      ? `Dying ReLU: ${list} of units never activate on the batch (threshold ${formatPercent(t.deadFraction)}); their gradients are zero.`
      : `Saturation: ${list} of outputs sit in the flat tails of the activation (threshold ${formatPercent(t.saturatedFraction)}), where its derivative is near zero.`;
  return {
    kind,
    severity: 'warning',
    layers: over.map((m) => m.layer.name),
    message,
    evidence: { fractions: over.map((m) => m.value), threshold: kind === 'dead-units' ? t.deadFraction : t.saturatedFraction },
  };
}

function symmetry(input: VerdictInput): ProbeVerdict | null {
  const over = flowPathLayers(input.layers).flatMap((layer) => {
    const fraction = input.symmetry.get(layer.id) ?? 0;
    return fraction >= input.thresholds.symmetricFraction ? [{ layer, fraction }] : [];
  });
  if (over.length === 0) return null;
  const list = over.map((o) => `${label(o.layer)} ${formatPercent(o.fraction)}`).join(', ');
  return {
    kind: 'symmetry',
    severity: 'warning',
    layers: over.map((o) => o.layer.name),
    message: `Unbroken symmetry: in ${list} of units are identical copies after training (constant/zero initialization); such a layer acts like a single unit.`,
    evidence: { duplicateFractions: over.map((o) => o.fraction), threshold: input.thresholds.symmetricFraction },
  };
}

/**
 * When the flow is judged at equal weight norm and the raw gradient norms would grade differently, a
 * note saying so, with the raw ratio: the table shows raw norms, and a reader comparing them should
 * know why they are not the verdict's.
 */
export function measureNotice(input: Pick<VerdictInput, 'layers' | 'thresholds'>): ProbeNotice | null {
  const profile = measuredFlow(input.layers, input.thresholds);
  if (!profile || profile.measure === 'gradient') return null;
  const raw = measuredFlow(input.layers, input.thresholds, 'gradient');
  if (!raw || raw.grade === profile.grade) return null;
  const reference = profile.path[profile.reference]!;
  return {
    severity: 'information',
    message: `Every weighted layer up to ${label(reference)} feeds a normalization: scaling a layer's weights changes only its gradient (inversely), so the flow is judged at equal weight norm, on |∇W|·|W| (${profile.grade}: the first layer gets ${sci(profile.ratio)} of the last hidden layer's). On raw gradient norms it would read ${raw.grade}: ${sci(raw.ratio)}.`,
    line: reference.line,
  };
}

/**
 * Layers behind a normalization whose scale starts at zero (zeroGatedLayers): their gradient is zero at
 * the first step by design and grows as the scale trains, so the flow is judged without them.
 */
export function gatedNotice(layers: VerdictInput['layers']): ProbeNotice | null {
  const gated = layers.filter((l) => l.gated === true);
  const first = gated[0];
  if (!first) return null;
  const named = gated.slice(0, 3).map(label).join(', ') + (gated.length > 3 ? ` and ${String(gated.length - 3)} more` : '');
  const [them, theirs] = gated.length === 1 ? ['it', 'its'] : ['them', 'theirs'];
  return {
    severity: 'information',
    message: `${named}: every path from ${them} to the loss passes a normalization whose scale starts at zero (a zero-initialized residual branch), so no gradient reaches ${them} at the first step by design; ${theirs} grows as the scale trains. The gradient flow is judged without ${them}.`,
    line: first.line,
  };
}

export function judge(input: VerdictInput): ProbeVerdict[] {
  const verdicts = [nonFinite(input), vanishing(input), attenuated(input), exploding(input), fractionVerdict(input, 'dead-units'), fractionVerdict(input, 'saturation'), symmetry(input)];
  return verdicts.filter((v): v is ProbeVerdict => v !== null);
}
