/**
 * One probe run: plan the model, build it, train it for N steps on synthetic data and measure every
 * layer at every step, then judge. All tensors created here are disposed before it returns.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelIR } from '../shared/ir';
import { PROVISIONAL_VERDICT_EVERY, type BackendName, type ProbeLayerResult, type ProbeNotice, type ProbeOptions, type ProbeResult, type ProbeVerdict } from '../shared/probe';
import { layerLine, ProbeFailure } from './errors';
import { makeInputs } from './data';
import { buildNodes, type ProbeNode, type StepContext } from './layers';
import { appliedFirst, clippedShare, computeLoss, makeTargets } from './loss';
import { PROBABILITY_CLIP, readsValuesAsProbabilities, resolveLosses, type LossTerm } from '../shared/losses';
import { measuredOn, StepMeter } from './metrics';
import { LAYER_METRIC_KEYS, LAYER_METRICS, nullElsewhere, type LayerMetricKey, type LayerSeries } from '../shared/probe-metrics';
import { buildOptimizer } from './optimizer';
import { planWithinBudget, type BudgetedPlan } from './scale';
import { Rng } from './rng';
import { duplicateUnitFraction } from './symmetry';
import { gatedNotice, judge, measureNotice } from './verdicts';
import { probePrediction } from './prediction';
import { outputHeads, scaleFreeLayers, zeroGatedLayers } from '../shared/gradient-flow';

export interface TrainHooks {
  /**
   * Called after every completed step. `verdicts`: provisional verdicts on the steps so far, after the
   * first step and every few steps. `partial`: the result so far (same cadence), for drawing early.
   */
  onStep?: (step: number, steps: number, loss: number, verdicts: ProbeVerdict[] | null, partial: ProbeResult | null) => void;
  isCancelled?: () => boolean;
  /** Epoch milliseconds after which no new step starts: the steps measured so far are the result. */
  deadline?: number;
}

/** Longest wait between two results-so-far sent while training (the panel redraws on each). */
const PARTIAL_EVERY_MS = 500;

/** Seeds of the independent random streams of a run: weights, data, dropout masks. */
/** What a Keras probability loss clipped at step 1 (clippedShare), in a note beside the one saying it clips. */
function clippedNotice(term: LossTerm, share: number, output: string): ProbeNotice {
  const percent = `${(100 * share).toFixed(0)} %`;
  const message =
    term.kind === 'categorical-crossentropy-clipped'
      ? `At step 1 the loss clipped the class's share of ${output}'s sum in ${percent} of the examples: they passed no gradient.`
      : `At step 1, ${percent} of ${output}'s values fell outside [${PROBABILITY_CLIP}, 1 - ${PROBABILITY_CLIP}], where the loss clips them: no gradient reached them.`;
  return { severity: 'information', message, line: null };
}

function streams(seed: number): { weights: Rng; data: Rng; dropout: Rng } {
  return { weights: new Rng(seed * 3 + 1), data: new Rng(seed * 3 + 2), dropout: new Rng(seed * 3 + 3) };
}

/** Runs the nodes in order; a negative input index -(k + 1) reads model input k. */
function forward(nodes: ProbeNode[], xs: tf.Tensor[], ctx: StepContext): tf.Tensor[] {
  const outputs: tf.Tensor[] = [];
  for (const node of nodes) outputs.push(node.apply(node.planned.inputs.map((i) => (i < 0 ? xs[-i - 1]! : outputs[i]!)), ctx));
  return outputs;
}

/** `applications`: how many times the layer object is applied (1, or more when later applications reuse its weights). */
function emptyLayer(node: ProbeNode, applications: number, output: boolean, scaleFree: boolean, gated: boolean): ProbeLayerResult {
  const ir = node.planned.ir;
  const series = {} as Record<LayerMetricKey, number[] | null>;
  for (const key of LAYER_METRIC_KEYS) {
    const on = LAYER_METRICS[key].on;
    series[key] = measuredOn(on, node) || !nullElsewhere(on) ? [] : null;
  }
  return { id: ir.id, name: ir.name, kind: ir.kind, line: layerLine(ir), params: node.planned.params, ...(applications > 1 ? { applications } : {}), ...(output ? { output: true as const } : {}), ...(scaleFree ? { scaleFree: true as const } : {}), ...(gated ? { gated: true as const } : {}), ...(series as LayerSeries) };
}

/** `budgeted`: the model's plan within the budget, when the caller has made it already. */
export async function trainModel(model: ModelIR, options: ProbeOptions, backend: BackendName, hooks: TrainHooks = {}, budgeted: BudgetedPlan | null = null): Promise<ProbeResult> {
  const started = performance.now();
  const { plan, batchSize } = budgeted ?? planWithinBudget(model, options);
  const notices: ProbeNotice[] = [...plan.notices];
  const rng = streams(options.seed);
  const lossTerms = resolveLosses(model, notices);
  const nodes: ProbeNode[] = [];
  let optimizer: ReturnType<typeof buildOptimizer> | null = null;
  try {
    nodes.push(...buildNodes(plan.layers, model.framework, rng.weights, notices));
    const built = buildOptimizer(model, notices);
    optimizer = built; // for the finally block
    // One row per set of parameters: a later application of a layer object is measured in its first
    // application's row. Its gradient there is the sum over applications (the variables are shared); its
    // activation statistics are the first application's (a siamese trunk's first branch, an unrolled
    // cell's first step), which the later applications' share in distribution but not in value.
    const measured = nodes.filter((n) => n.planned.ir.kind !== 'input' && !n.reuses);
    const applications = (n: ProbeNode) => 1 + nodes.filter((other) => other.reuses === n).length;
    const weightNodes = measured.filter((n) => n.vars.length > 0);
    const vars = weightNodes.flatMap((n) => n.vars);
    if (vars.length === 0) throw new ProbeFailure('unsupported', `model ${model.name} has no trainable weights to probe`);
    const meter = new StepMeter(measured, batchSize, optimizer.gradientScale, optimizer.exactUpdate);
    const scale = optimizer.gradientScale;
    // With several outputs, each one's head is marked: none of them is the hidden layer the flow is judged against.
    const { heads } = outputHeads(model);
    const headIds = heads.size > 1 ? new Set([...heads].map((i) => model.layers[i]!.id)) : new Set<string>();
    const scaleFreeIds = new Set([...scaleFreeLayers(model)].map((i) => model.layers[i]!.id));
    const gatedIds = new Set([...zeroGatedLayers(model)].map((i) => model.layers[i]!.id));
    const results = measured.map((n) => emptyLayer(n, applications(n), headIds.has(n.planned.ir.id), scaleFreeIds.has(n.planned.ir.id), gatedIds.has(n.planned.ir.id)));
    const losses: number[] = [];
    let steps = Math.max(1, Math.floor(options.steps));
    let lastPartialAt = performance.now();
    const prediction = probePrediction(model);
    const snapshot = (verdicts: ProbeVerdict[]): ProbeResult => ({
      version: 1,
      model: { name: model.name, framework: model.framework, line: model.nameRange.start.line + 1 },
      backend,
      steps: losses.length,
      batchSize,
      seed: options.seed,
      durationMs: Math.round(performance.now() - started),
      inputShape: plan.inputShape,
      rawInputMax: options.rawInputMax,
      optimizer: built.description,
      lossName: [...new Set(lossTerms.map((t) => t.kind))].join(' + '),
      layers: results,
      loss: losses,
      verdicts,
      notices,
      prediction,
      whatIfTitle: null,
      whatIf: null,
    });
    // Keras' probability losses on values that are not probabilities: the share they clip at step 1.
    const clippedTerms = lossTerms.flatMap((term, k) => (readsValuesAsProbabilities(term) ? [{ term, k }] : []));
    let clipped: tf.Scalar[] = [];
    for (let step = 0; step < steps; step++) {
      if (hooks.isCancelled?.()) throw new ProbeFailure('cancelled', `probe cancelled after ${step} of ${steps} steps`);
      const xs = makeInputs(plan, batchSize, rng.data, options.rawInputMax);
      const ys = lossTerms.map((t) => makeTargets(t.kind, t.activation, plan.layers[t.index]!.outShape, batchSize, rng.data));
      const before = meter.snapshot();
      let kept: tf.Tensor[] = [];
      const ctx: StepContext = { training: true, rng: rng.dropout };
      const { value, grads } = tf.variableGrads(() => {
        const outputs = forward(nodes, xs, ctx);
        kept = measured.map((n) => tf.keep(outputs[nodes.indexOf(n)]!));
        // One loss is scaled as it is computed (the cross-entropy kernels take the scale); several, once summed.
        const alone = lossTerms.length === 1;
        const loss = lossTerms.map((t, k) => computeLoss(t.kind, appliedFirst(t.applied, outputs[t.index]!), ys[k]!, alone ? scale : 1)).reduce((sum, term) => tf.add(sum, term));
        if (step === 0) clipped = clippedTerms.map(({ term, k }) => tf.keep(clippedShare(term.kind, appliedFirst(term.applied, outputs[term.index]!), ys[k]!)));
        return (alone || scale === 1 ? loss : tf.mul(loss, scale)) as tf.Scalar;
      }, vars);
      const gradList = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
      clipped.forEach((share, i) => notices.push(clippedNotice(clippedTerms[i]!.term, share.dataSync()[0]!, plan.layers[clippedTerms[i]!.term.index]!.ir.name)));
      tf.dispose(clipped);
      clipped = [];
      optimizer.step(vars, gradList);
      const packed = meter.pack(value, kept, gradList, before);
      const numbers = meter.unpack(packed.dataSync());
      tf.dispose([...xs, ...ys, value, packed, ...kept, ...gradList, ...before]);
      losses.push(numbers.loss);
      results.forEach((r, i) => {
        for (const key of LAYER_METRIC_KEYS) {
          const value = numbers.values[key][i];
          if (value !== null && value !== undefined) r[key]?.push(value);
        }
      });
      if (!Number.isFinite(numbers.loss)) {
        notices.push({ severity: 'warning', message: `Training stopped at step ${step + 1} of ${steps}: the loss is no longer finite.`, line: null });
        steps = step + 1;
      }
      if (hooks.deadline !== undefined && Date.now() > hooks.deadline && step + 1 < steps) {
        notices.push({ severity: 'information', message: `The time budget ran out after ${step + 1} of ${steps} steps; the steps measured are shown.`, line: null });
        steps = step + 1;
      }
      const last = step + 1 === steps;
      const provisional = step === 0 || last || (step + 1) % PROVISIONAL_VERDICT_EVERY === 0;
      // The result so far goes out with every provisional verdict and at least every PARTIAL_EVERY_MS.
      const stream = provisional || performance.now() - lastPartialAt >= PARTIAL_EVERY_MS;
      const early = stream ? judge({ layers: results, loss: losses, symmetry: new Map(), thresholds: options.thresholds }) : null;
      if (stream) lastPartialAt = performance.now();
      hooks.onStep?.(step + 1, steps, numbers.loss, early, early ? structuredClone(snapshot(early)) : null);
      // Let a cancel message in between steps.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const symmetry = new Map<string, number>();
    // After divergence the weights say nothing about initialization symmetry.
    const diverged = losses.some((l) => !Number.isFinite(l));
    for (const node of diverged ? [] : weightNodes) {
      const fraction = duplicateUnitFraction(node);
      if (fraction !== null) symmetry.set(node.planned.ir.id, fraction);
    }
    const verdicts = judge({ layers: results, loss: losses, symmetry, thresholds: options.thresholds });
    const measureNote = measureNotice({ layers: results, thresholds: options.thresholds });
    if (measureNote) notices.push(measureNote);
    const gatedNote = gatedNotice(results);
    if (gatedNote) notices.push(gatedNote);
    return { ...snapshot(verdicts), durationMs: Math.round(performance.now() - started) };
  } finally {
    optimizer?.dispose();
    for (const node of nodes) tf.dispose([...node.vars, ...(node.held ?? [])]);
  }
}
