/**
 * A small typed builder for ModelIRs in rule unit tests, so a rule can be tested before (and
 * independently of) the extractors. Every layer sits on its own line (line = index unless given),
 * framework defaults are filled in the way the extractors record them.
 */
import type { ActivationIR, ActivationName, Framework, InitializerIR, InitializerName, LayerIR, LayerKind, Layout, ModelIR, ModelStyle, Range } from '../../../src/shared/ir';
import type { Rule, RuleContext } from '../../../src/analysis/rules/types';
import { defaultSettings, type Settings } from '../../../src/shared/settings';
import { makeLayer, makeModel } from '../../../src/analysis/extract/builders';
import { detailWith, type DetailPatch } from '../../../src/shared/layers';
import { kerasDefaultBias, kerasDefaultKernel, torchDefaultBias, torchDefaultWeight } from '../../../src/analysis/extract/defaults';

export const FILE = '/project/model.py';

export function lineRange(line: number, startChar = 4, endChar = 40): Range {
  return { start: { line, character: startChar }, end: { line, character: endChar } };
}

export interface LayerSpec {
  kind: LayerKind;
  className?: string;
  /** 0-based line of the constructor call; defaults to the layer's index. */
  line?: number;
  range?: Range;
  name?: string;
  units?: number | null;
  inFeatures?: number | null;
  activation?: ActivationName | ActivationIR | null;
  /** How the activation is written; 'kwarg' for fused, 'layer' for activation layers by default. */
  activationSource?: ActivationIR['source'];
  kernelInit?: InitializerName | InitializerIR | null;
  useBias?: boolean;
  fanIn?: number | null;
  fanOut?: number | null;
  /** The kind's typed fields that differ from its defaults (e.g. `{ rate: 0.2 }`, `{ norm: { axis: 1 } }`). */
  detail?: DetailPatch;
  /** Keras `data_format=` written on the layer. */
  dataFormat?: Layout | null;
  /** Indices of the layers feeding this one (graphs only). */
  inputs?: number[];
  unrolled?: { index: number; count: number } | null;
}

const LEARNING_KINDS: ReadonlySet<LayerKind> = new Set(['dense', 'conv1d', 'conv2d', 'conv3d', 'conv-transpose']);

function activationIR(spec: LayerSpec, range: Range): ActivationIR | null {
  const a = spec.activation;
  if (a === undefined || a === null) return null;
  if (typeof a !== 'string') return a;
  const source = spec.activationSource ?? (spec.kind === 'activation' ? 'layer' : 'kwarg');
  return { name: a, spelling: `'${a}'`, range: source === 'default' ? null : range, source, params: {} };
}

function initializerIR(framework: Framework, init: LayerSpec['kernelInit']): InitializerIR | null {
  if (init === null || init === undefined) return null;
  if (typeof init !== 'string') return init;
  return { name: init, params: {}, options: {}, spelling: `'${init}'`, range: null, explicit: true, framework };
}

/** Builds one layer; `framework` decides the defaults of learning layers. */
export function buildLayer(framework: Framework, spec: LayerSpec, index: number): LayerIR {
  const line = spec.line ?? index;
  const range = spec.range ?? lineRange(line);
  const learning = LEARNING_KINDS.has(spec.kind);
  const defaultKernel = learning ? (framework === 'keras' ? kerasDefaultKernel() : torchDefaultWeight()) : null;
  const defaultBias = learning ? (framework === 'keras' ? kerasDefaultBias() : torchDefaultBias()) : null;
  return makeLayer({
    ...detailWith(spec.kind, spec.detail),
    className: spec.className ?? spec.kind,
    range,
    name: spec.name ?? '',
    units: spec.units ?? null,
    inFeatures: spec.inFeatures ?? null,
    activation: activationIR(spec, lineRange(line, 20, 26)),
    kernelInit: spec.kernelInit === undefined ? defaultKernel : initializerIR(framework, spec.kernelInit),
    biasInit: defaultBias,
    useBias: spec.useBias ?? learning,
    fanIn: spec.fanIn ?? null,
    fanOut: spec.fanOut ?? null,
    dataFormat: spec.dataFormat ?? null,
    unrolled: spec.unrolled ?? null,
  });
}

export interface ModelSpec {
  framework?: Framework;
  style?: ModelStyle;
  name?: string;
  file?: string;
  isGraph?: boolean;
  layers: LayerSpec[];
}

export function buildModel(spec: ModelSpec): ModelIR {
  const framework = spec.framework ?? 'keras';
  const style = spec.style ?? (framework === 'keras' ? 'keras-sequential' : 'torch-sequential');
  const lastLine = Math.max(0, ...spec.layers.map((l, i) => l.line ?? i));
  const model = makeModel({
    name: spec.name ?? 'model',
    framework,
    style,
    file: spec.file ?? FILE,
    range: { start: { line: 0, character: 0 }, end: { line: lastLine + 1, character: 0 } },
    nameRange: lineRange(0, 0, 5),
    layers: spec.layers.map((l, i) => buildLayer(framework, l, i)),
    isGraph: spec.isGraph ?? false,
  });
  if (model.isGraph) {
    model.layers.forEach((layer, i) => {
      const inputs = spec.layers[i]!.inputs ?? (i > 0 ? [i - 1] : []);
      layer.inputs = inputs.map((j) => `L${j}`);
    });
  }
  return model;
}

/** Shorthands for the layers tests use most. */
export const dense = (units: number, extra: Partial<LayerSpec> = {}): LayerSpec => ({ kind: 'dense', units, ...extra });
export const act = (name: ActivationName, extra: Partial<LayerSpec> = {}): LayerSpec => ({ kind: 'activation', activation: name, ...extra });
export const layerOf = (kind: LayerKind, extra: Partial<LayerSpec> = {}): LayerSpec => ({ kind, ...extra });

/** A RuleContext as the engine makes it: thresholds from settings, else the rule's documented defaults. */
export function contextFor(rule: Rule, settings: Partial<Settings> = {}, sources: Record<string, string> = {}): RuleContext {
  const merged: Settings = { ...defaultSettings(), ...settings };
  return {
    settings: merged,
    sourceText: (file) => sources[file],
    option<T extends number | boolean | string>(key: string): T {
      const value = merged.thresholds[key] ?? rule.meta.options.find((o) => o.key === key)?.default;
      if (value === undefined) throw new Error(`${rule.meta.code} has no option ${key}`);
      return value as T;
    },
  };
}

/** The range of the n-th occurrence of `snippet` in `text` (for layers and activations of a source-backed test). */
export function findRange(text: string, snippet: string, nth = 0): Range {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(snippet, at + 1);
    if (at < 0) throw new Error(`'${snippet}' #${nth} not in text`);
  }
  const position = (offset: number) => {
    const before = text.slice(0, offset).split('\n');
    return { line: before.length - 1, character: before[before.length - 1]!.length };
  };
  return { start: position(at), end: position(at + snippet.length) };
}

/** Applies non-overlapping text edits of one file (as an editor would). */
export function applyEdits(text: string, edits: readonly { range: Range; newText: string }[]): string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  const offset = (p: Range['start']) => starts[p.line]! + p.character;
  const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, offset(e.range.start)) + e.newText + out.slice(offset(e.range.end));
  return out;
}
