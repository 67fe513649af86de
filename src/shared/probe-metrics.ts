/**
 * The probe's per-layer measurements, one row each: what it is (docs), which layers have it, which
 * on-device reductions it is computed from, how, and whether the layer tables show it. The probe's
 * meter, the result type, the CLI/HTML/panel tables and docs/probe.md all read this table, so a new
 * metric built from the existing reductions is one row here.
 */

/** Output level beyond which a sigmoid/tanh unit counts as saturated: |2y-1| > 0.96 for sigmoid, |y| > 0.96 for tanh; the derivative is below 7.8 % of its peak there. */
export const SATURATION_LEVEL = 0.96;

/**
 * The reductions the probe computes on the device each step, per layer, summed over the batch:
 * `sum` of the outputs and `square` of their differences from `shift`, one of the layer's output
 * values (a float32 sum of raw squares loses a variance far below the squared mean: sigmoid outputs
 * near 0.5, log-probabilities near -log V); `saturated` outputs past SATURATION_LEVEL; `dead` units (<= 0 for
 * every example); squared norms of the weights' `grad`, of the optimizer step (`delta`) and of the
 * `weight`s before it.
 */
export type MeterPart = 'shift' | 'sum' | 'square' | 'saturated' | 'dead' | 'grad' | 'delta' | 'weight';

/** Which layers a metric exists for: every layer, layers with weights, sigmoid/tanh-family outputs, relu-family outputs. */
export type MeasuredOn = 'every' | 'weights' | 'saturating' | 'relu';

/** One layer's reductions at one step, with what turning them into values needs. */
export interface MeterTotals {
  parts: Partial<Record<MeterPart, number>>;
  /** Output elements over the batch. */
  count: number;
  /** Output units (the last axis). */
  units: number;
  /** The loss was multiplied by this before differentiation (plain SGD folds its learning rate in). */
  gradientScale: number;
  /** The optimizer step subtracts exactly the scaled gradient: `delta` is `grad`, not measured. */
  exactUpdate: boolean;
}

export interface LayerMetric {
  /** docs/probe.md's description of the field. */
  docs: string;
  on: MeasuredOn;
  parts: readonly MeterPart[];
  value(t: MeterTotals): number;
  /** A column of the layer tables (HTML report, panel): the median over the steps (what verdicts judge and quote), as a percentage; null when not shown. */
  column: string | null;
}

const part = (t: MeterTotals, name: MeterPart): number => t.parts[name] ?? 0;
const mean = (t: MeterTotals): number => part(t, 'sum') / t.count;
const stepSq = (t: MeterTotals): number => (t.exactUpdate ? part(t, 'grad') : part(t, 'delta'));

export const LAYER_METRICS = {
  gradNorm: {
    docs: "L2 norm of the gradient of all the layer's trainable weights (before clipping); `[]` for weightless layers",
    on: 'weights',
    parts: ['grad'],
    value: (t) => Math.sqrt(part(t, 'grad')) / t.gradientScale,
    column: null, // the tables show it in their own grad@1 / grad@N / median columns
  },
  actMean: {
    docs: "mean of the layer's output over the batch",
    on: 'every',
    parts: ['sum'],
    value: mean,
    column: null,
  },
  actStd: {
    docs: "standard deviation of the layer's output over the batch",
    on: 'every',
    parts: ['shift', 'sum', 'square'],
    // E[(x - s)²] - (E[x] - s)², in float64 here: the shift takes the cancellation away.
    value: (t) => Math.sqrt(Math.max(0, part(t, 'square') / t.count - (mean(t) - part(t, 'shift')) ** 2)),
    column: null,
  },
  saturated: {
    docs: `sigmoid/hard_sigmoid (|2y-1| > ${SATURATION_LEVEL}) and tanh/softsign (|y| > ${SATURATION_LEVEL}) outputs: fraction in the flat tails, where the derivative is below 7.8% of its peak; \`null\` for other layers`,
    on: 'saturating',
    parts: ['saturated'],
    value: (t) => part(t, 'saturated') / t.count,
    column: 'saturated, median',
  },
  dead: {
    docs: 'relu/relu6: fraction of units whose output is <= 0 for every example of the batch; `null` otherwise',
    on: 'relu',
    parts: ['dead'],
    value: (t) => part(t, 'dead') / t.units,
    column: 'dead, median',
  },
  weightNorm: {
    docs: "L2 norm of the layer's trainable weights before the step; `[]` for weightless layers. The flow is judged on gradNorm x weightNorm when every layer compared is scale-free (docs/probe.md, \"Scale-free layers\")",
    on: 'weights',
    parts: ['weight'],
    value: (t) => Math.sqrt(part(t, 'weight')),
    column: null,
  },
  updateRatio: {
    docs: '||W_after - W_before|| / ||W_before|| of the optimizer step (clipping and Adam included); `[]` for weightless layers',
    on: 'weights',
    parts: ['grad', 'delta', 'weight'],
    value: (t) => Math.sqrt(stepSq(t)) / Math.max(Math.sqrt(part(t, 'weight')), 1e-12),
    column: null,
  },
  nonFinite: {
    docs: "1 when NaN/Inf appeared in the layer's output, gradient or weights at that step, else 0",
    on: 'every',
    parts: ['shift', 'sum', 'square', 'grad', 'delta', 'weight'],
    value: (t) => (Object.values(t.parts).every(Number.isFinite) ? 0 : 1),
    column: null,
  },
} as const satisfies Record<string, LayerMetric>;

export type LayerMetricKey = keyof typeof LAYER_METRICS;

export const LAYER_METRIC_KEYS = Object.keys(LAYER_METRICS) as LayerMetricKey[];

/** Metrics of some activations only are `null` on other layers (a reader tells "not measured" from "none"); the others are `[]` where they do not apply (weight metrics on weightless layers). */
const NULL_ELSEWHERE = ['saturating', 'relu'] as const satisfies readonly MeasuredOn[];

export function nullElsewhere(on: MeasuredOn): boolean {
  return (NULL_ELSEWHERE as readonly MeasuredOn[]).includes(on);
}

type SeriesOf<M> = M extends { on: (typeof NULL_ELSEWHERE)[number] } ? number[] | null : number[];

/** A layer's per-step series, one per metric. */
export type LayerSeries = { [K in LayerMetricKey]: SeriesOf<(typeof LAYER_METRICS)[K]> };

/** Metrics shown as a column of the layer tables, in table order. */
export const METRIC_COLUMNS: { key: LayerMetricKey; heading: string }[] = LAYER_METRIC_KEYS.flatMap((key) => {
  const heading = (LAYER_METRICS[key] as LayerMetric).column;
  return heading === null ? [] : [{ key, heading }];
});
