/**
 * Hovers: rule codes in suppression comments (the rule's docs), and the model IR under the cursor —
 * initializers (explicit, or the framework default shown on the layer's constructor), activations,
 * and normalization/dropout layers — explained by the shared knowledge base.
 */
import { rangeContains } from '../../shared/ranges';
import type { HeldModels } from '../analysisProtocol';
import { ruleByCode } from '../../analysis/rules/index';
import { parseSuppressions } from '../../analysis/suppression';
import type { ActivationIR, InitializerIR, LayerIR, ModelIR, Position, Range } from '../../shared/ir';
import { describeActivationHover, describeInitializerHover, describeLayerHover } from '../../shared/knowledge/index';
import { ruleDocsUri } from '../ruleDocs';

export interface HoverResult {
  markdown: string;
  /** The hovered span in the analyzed text. */
  range: Range | null;
}

export type HoverTarget =
  | { kind: 'initializer'; model: ModelIR; layer: LayerIR; init: InitializerIR; range: Range }
  | { kind: 'activation'; model: ModelIR; layer: LayerIR; activation: ActivationIR; range: Range }
  | { kind: 'layer'; model: ModelIR; layer: LayerIR; range: Range };


function size(range: Range): number {
  return (range.end.line - range.start.line) * 100_000 + (range.end.character - range.start.character);
}

/** Where a layer's hover applies: the constructor's name when it can be found on the line, else the whole call. */
function constructorRange(layer: LayerIR, lineText: (line: number) => string): Range {
  const { start } = layer.range;
  const text = lineText(start.line);
  if (text.startsWith(layer.className, start.character)) {
    return { start, end: { line: start.line, character: start.character + layer.className.length } };
  }
  return layer.range;
}

/**
 * Per model, the lines its hover targets span (every target lies within its layer's range, or is an
 * initializer or activation written elsewhere): a hover skips the models of a dense file that cannot
 * hold it. Kept per model object, which stays the same while its code is unchanged.
 */
const targetSpans = new WeakMap<ModelIR, { from: number; to: number }>();

function targetLines(model: ModelIR): { from: number; to: number } {
  let span = targetSpans.get(model);
  if (!span) {
    let from = Infinity;
    let to = -Infinity;
    const cover = (range: Range | null | undefined) => {
      if (!range) return;
      from = Math.min(from, range.start.line);
      to = Math.max(to, range.end.line);
    };
    for (const layer of model.layers) {
      cover(layer.range);
      for (const init of [layer.kernelInit, layer.biasInit, layer.recurrentInit]) cover(init?.range);
      cover(layer.activation?.range);
    }
    targetSpans.set(model, (span = { from, to }));
  }
  return span;
}

/** The most specific IR node under `position`: an initializer or activation as written, else a layer's constructor. */
export function hoverTarget(models: ModelIR[], position: Position, lineText: (line: number) => string): HoverTarget | null {
  let best: HoverTarget | null = null;
  const consider = (candidate: HoverTarget) => {
    if (!rangeContains(candidate.range, position)) return;
    if (!best || size(candidate.range) < size(best.range)) best = candidate;
  };
  for (const model of models) {
    const lines = targetLines(model);
    if (position.line < lines.from || position.line > lines.to) continue;
    for (const layer of model.layers) {
      for (const init of [layer.kernelInit, layer.biasInit, layer.recurrentInit]) {
        if (init?.range) consider({ kind: 'initializer', model, layer, init, range: init.range });
      }
      if (layer.activation?.range) consider({ kind: 'activation', model, layer, activation: layer.activation, range: layer.activation.range });
      consider({ kind: 'layer', model, layer, range: constructorRange(layer, lineText) });
    }
  }
  return best;
}

function describeTarget(target: HoverTarget): string {
  switch (target.kind) {
    case 'initializer':
      return describeInitializerHover(target.layer, target.init, target.model);
    case 'activation':
      return describeActivationHover(target.activation, target.layer, target.model);
    case 'layer':
      // Normalization/dropout layers explain themselves; weight layers show their kernel initializer,
      // including a framework default the user never wrote (it has no text of its own to hover).
      return describeLayerHover(target.layer, target.model);
  }
}

/** The docs of the rule code under the cursor in a `# noqa:` / `# gradient-lens: ignore[...]` comment. */
export function ruleCodeHover(lineText: string, position: Position): HoverResult | null {
  for (const directive of parseSuppressions(lineText).directives) {
    for (const { code, range } of directive.codes) {
      if (position.character < range.start.character || position.character > range.end.character) continue;
      const rule = ruleByCode(code);
      if (!rule) return null;
      const { meta } = rule;
      const markdown = [`**${meta.code}** \`${meta.name}\` — ${meta.summary}`, meta.docs, `[Rule documentation](${ruleDocsUri(meta.code)})`].filter((s) => s.trim() !== '').join('\n\n');
      return { markdown, range: { start: { line: position.line, character: range.start.character }, end: { line: position.line, character: range.end.character } } };
    }
  }
  return null;
}

export function hoverAt(held: HeldModels, lineText: (line: number) => string, position: Position): HoverResult | null {
  const onCode = ruleCodeHover(lineText(position.line), position);
  if (onCode) return onCode;
  // Only models that can hold the position are read: a model moved by `rows` lines spans its target lines moved as much.
  const line = position.line;
  const near = held.modelsWhere((model, rows) => {
    const lines = targetLines(model);
    return line - rows >= lines.from && line - rows <= lines.to;
  });
  const target = hoverTarget(near, position, lineText);
  if (!target) return null;
  return { markdown: describeTarget(target), range: target.range };
}
