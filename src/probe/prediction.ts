/**
 * The static prediction of the probed model, carried in the result so that the panel shows predicted
 * beside measured per layer (the probe process computes it: the knowledge base is pure and fast).
 */
import type { ModelIR } from '../shared/ir';
import type { ProbePrediction } from '../shared/probe';
import { modelPrediction } from '../shared/knowledge/propagation';

export function probePrediction(model: ModelIR): ProbePrediction {
  const p = modelPrediction(model);
  if (!p.ok) return { log10FirstLastRatio: null, grade: null, layers: [], unavailable: p.reason, assumptions: [] };
  return {
    log10FirstLastRatio: p.log10FirstLastRatio,
    against: p.against,
    measure: p.measure,
    grade: p.grade,
    layers: p.layers.map((l) => ({ id: l.layerId, predictedStd: l.predictedStd, log10GradRatio: l.log10GradRatio })),
    unavailable: null,
    assumptions: p.assumptions,
  };
}
