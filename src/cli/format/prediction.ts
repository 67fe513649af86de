/**
 * The static gradient-flow prediction of a model as the CLI shows it: the `prediction` object of the
 * JSON report (issue 9 §1) and the lines `check --verbose` prints under the findings.
 */
import { approxRatio, flowReference, NO_FLOW_PAIR, type FlowMeasure } from '../../shared/gradient-flow';
import { flowOutliersClause } from '../../shared/knowledge/flow-outliers';
import type { CheckedModel } from '../report';

export interface JsonLayerPrediction {
  /** 1-based line of the layer's constructor (in a notebook, within `cell`). */
  line: number;
  /** Notebooks: the 1-based cell of `line`, counting every cell. */
  cell?: number;
  name: string;
  predictedStd: number;
  /** log10 of the layer's weight-gradient norm over the output layer's; null for weightless layers. */
  log10GradRatio: number | null;
}

export interface JsonPrediction {
  /** log10(first weighted layer's gradient norm / last hidden weighted layer's) at initialization. */
  log10FirstLastRatio: number;
  /** What the ratio compares: 'gradient' norms, or 'unit-weight' (|∇W|·|W|, every layer compared being scale-free). */
  measure: FlowMeasure;
  grade: string;
  layers: JsonLayerPrediction[];
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

function significant(value: number): number {
  return value === 0 || !Number.isFinite(value) ? value : Number(value.toPrecision(4));
}

/** Where a 0-based line of the analyzed text is: its 1-based line, and in a notebook the cell holding it. */
export type LineLocator = (line0: number) => { line: number; cell?: number };

const IN_FILE: LineLocator = (line0) => ({ line: line0 + 1 });
const AS_IS = (text: string): string => text;

/** The prediction, or the reason there is none; `rename` names the lines a text mentions as `locate` does. */
export function jsonPrediction(model: CheckedModel, locate: LineLocator = IN_FILE, rename = AS_IS): { prediction: JsonPrediction | null; predictionUnavailable?: string } {
  const p = model.prediction;
  if (!p.ok) return { prediction: null, predictionUnavailable: rename(p.reason) };
  if (p.log10FirstLastRatio === null || p.grade === null) return { prediction: null, predictionUnavailable: `${NO_FLOW_PAIR}: no first-to-last gradient ratio` };
  return {
    prediction: {
      log10FirstLastRatio: round(p.log10FirstLastRatio, 3),
      measure: p.measure,
      grade: p.grade,
      layers: p.layers.map((l) => ({
        ...locate(l.range.start.line),
        name: l.name,
        predictedStd: significant(l.predictedStd),
        log10GradRatio: l.log10GradRatio === null ? null : round(l.log10GradRatio, 3),
      })),
    },
  };
}

/** Text lines for `check --verbose`: the model, its ratio and grade, one line per layer. */
export function predictionLines(model: CheckedModel, where: (line: number) => string, rename = AS_IS): string[] {
  const p = model.prediction;
  if (!p.ok) return [`${where(model.range.start.line)}: model ${model.name}: no gradient-flow prediction (${rename(p.reason)})`];
  const head =
    p.log10FirstLastRatio === null
      ? `model ${model.name}: predicted at initialization (${NO_FLOW_PAIR})`
      : `model ${model.name}: predicted ${p.grade} at initialization: the first layer gets ${approxRatio(10 ** p.log10FirstLastRatio)} of ${flowReference(p.against, p.measure)}${rename(flowOutliersClause(p))}`;
  const assumed = p.assumptions.length > 0 ? ` (assuming ${rename(p.assumptions.join(', '))})` : '';
  const lines = [`${where(model.range.start.line)}: ${head}${assumed}`];
  for (const layer of p.layers) {
    const grad = layer.log10GradRatio === null ? '' : `, gradient ${approxRatio(10 ** layer.log10GradRatio)} of the output layer's`;
    lines.push(`  ${where(layer.range.start.line)}: ${layer.name || layer.kind}: std ${significant(layer.predictedStd)}${grad}`);
  }
  return lines;
}
