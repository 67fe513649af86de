/** `gradientLens.probe.*` settings as ProbeOptions (bad values fall back to the defaults, never throw). */
import * as vscode from 'vscode';
import { BACKEND_CHOICES, DEFAULT_PROBE_OPTIONS, probeOptions, type BackendChoice, type ProbeOptions, type ProbeThresholds } from '../../shared/probe';

export interface ProbeSettings {
  options: ProbeOptions;
  /** Re-probe a model that has annotations when its file is saved. */
  probeOnSave: boolean;
}


function wholeNumber(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}

function thresholds(value: unknown): Partial<ProbeThresholds> {
  if (typeof value !== 'object' || value === null) return {};
  const known = Object.keys(DEFAULT_PROBE_OPTIONS.thresholds) as (keyof ProbeThresholds)[];
  const out: Partial<ProbeThresholds> = {};
  for (const key of known) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[key] = v;
  }
  return out;
}

export function readProbeSettings(scope?: vscode.Uri): ProbeSettings {
  const c = vscode.workspace.getConfiguration('gradientLens.probe', scope);
  const backend = c.get<string>('backend', 'auto');
  const shape = c.get<unknown>('inputShape', null);
  const inputShape = Array.isArray(shape) && shape.length > 0 && shape.every((n) => typeof n === 'number' && Number.isInteger(n) && n > 0) ? (shape as number[]) : null;
  return {
    options: probeOptions({
      steps: wholeNumber(c.get('steps'), 1, 1000, DEFAULT_PROBE_OPTIONS.steps),
      batchSize: wholeNumber(c.get('batchSize'), 1, 4096, DEFAULT_PROBE_OPTIONS.batchSize),
      seed: wholeNumber(c.get('seed'), 0, 2 ** 31 - 1, DEFAULT_PROBE_OPTIONS.seed),
      backend: BACKEND_CHOICES.includes(backend as BackendChoice) ? (backend as BackendChoice) : 'auto',
      inputShape,
      thresholds: thresholds(c.get('thresholds')),
    }),
    probeOnSave: c.get<boolean>('probeOnSave', false),
  };
}
