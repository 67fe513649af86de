/**
 * The pure parts around the panel: the line annotations written after a probe, and the guards that
 * decide which messages the panel and its host accept. Inputs are recorded probe results.
 */
import { describe, expect, it } from 'vitest';
import { annotationsFor } from '../../src/extension/probe/annotations';
import { escapeHtmlText, jsonForScriptElement, panelPageHtml } from '../../src/shared/panel-page';
import { emptyPanelState, isExportMessage, isHostToWebviewMessage, isPanelState, isReprobeMessage, isRevealLayerMessage, isWebviewToHostMessage } from '../../src/shared/webview-messages';
import { fixture } from './harness';
import { defined } from '../defined';

describe('line annotations', () => {
  it('puts one annotation on the loop line of the deep sigmoid stack, with the range of its ten norms and the vanishing verdict', () => {
    const result = fixture('keras-deep-sigmoid-whatif');
    const annotations = annotationsFor(result);
    expect(annotations.map((a) => a.line)).toEqual([9, 10]);
    const loop = annotations[0]!;
    expect(loop.text).toMatch(/^∇ \S+…\S+ \(10 layers\) vanishing$/);
    expect(loop.problem).toBe(true);
    expect(loop.hover).toContain('Glorot & Bengio 2010');
    // The output layer is not named by the verdict: a number, no problem mark.
    expect(annotations[1]!.problem).toBe(false);
    expect(annotations[1]!.text).toBe(`∇ ${defined(result.layers[10]!.gradNorm.at(-1)).toPrecision(2)}`);
  });

  it('stays silent about problems on the healthy twin', () => {
    const annotations = annotationsFor(fixture('saturating-activation-stack-clean'));
    expect(annotations.length).toBeGreaterThan(0);
    expect(annotations.filter((a) => a.problem)).toEqual([]);
    for (const a of annotations) expect(a.text).toMatch(/^∇ [\d.e+-]+$/);
  });
});

const result = fixture('saturating-activation-stack-clean');

describe('webview message guards', () => {

  it('accept well-formed messages and reject look-alikes', () => {
    expect(isHostToWebviewMessage({ type: 'show-result', result, whatIfs: [], modelId: 'm@1', documentUri: 'file:///a.py' })).toBe(true);
    expect(isHostToWebviewMessage({ type: 'show-result', result: { ...result, version: 2 }, whatIfs: [], modelId: 'm@1', documentUri: 'file:///a.py' })).toBe(false);
    expect(isHostToWebviewMessage({ type: 'show-result', result, whatIfs: [{ index: -1, code: 'GL101', title: 't', canApply: true, lines: [1] }], modelId: 'm', documentUri: 'u' })).toBe(false);
    expect(isRevealLayerMessage({ type: 'reveal-layer', layerId: 'L0', line: 11 })).toBe(true);
    expect(isRevealLayerMessage({ type: 'reveal-layer', layerId: 'L0', line: 0 })).toBe(false);
    expect(isRevealLayerMessage({ type: 'reveal-layer', layerId: 'L0', line: '11' })).toBe(false);
    expect(isReprobeMessage({ type: 'reprobe', steps: 5000, seed: 1 })).toBe(false);
    expect(isExportMessage({ type: 'export', format: 'png', dataUrl: 'javascript:alert(1)' })).toBe(false);
    expect(isExportMessage({ type: 'export', format: 'html', dataUrl: null })).toBe(true);
    expect(isWebviewToHostMessage({ type: 'run-what-if', index: 1.5 })).toBe(false);
    expect(isWebviewToHostMessage('ready')).toBe(false);
    expect(isPanelState(emptyPanelState())).toBe(true);
    expect(isPanelState({ ...emptyPanelState(), result: { version: 1 } })).toBe(false);
  });
});

describe('panel page', () => {
  it('has a nonce-only CSP and cannot be broken out of by the baked state', () => {
    const hostile = { ...emptyPanelState(), result: { ...result, model: { ...result.model, name: '</script><script>alert(1)</script>' } } };
    const html = panelPageHtml({ nonce: 'abc', title: '<b>t</b>', resourceOrigin: null, script: { inline: 'void 0' }, style: { inline: 'body{}' }, initialState: hostile });
    expect(html).toContain("script-src 'nonce-abc'");
    expect(html).not.toContain("'unsafe-inline'");
    expect(html).not.toContain('</script><script>alert(1)');
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).toContain(escapeHtmlText('<b>t</b>'));
    expect((JSON.parse(jsonForScriptElement(hostile)) as typeof hostile).result.model.name).toBe(hostile.result.model.name);
  });
});
