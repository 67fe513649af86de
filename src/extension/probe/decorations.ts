/**
 * Probe numbers next to the code: `∇ 2.4e-13 vanishing` at the end of each layer line, problem layers
 * marked in the gutter and overview ruler, a hover explaining the number; when the document is edited
 * after the probe the annotations turn stale (dimmed, "(stale)") until the next probe.
 */
import * as vscode from 'vscode';
import { formatGradNorm } from '../../shared/probe-format';
import { DEFAULT_THRESHOLDS, type ProbeLayerResult, type ProbeResult, type VerdictKind } from '../../shared/probe';

/** What was decorated, for the test-only command (tests never read pixels). */
export interface AnnotationSnapshot {
  uri: string;
  /** 1-based line. */
  line: number;
  text: string;
  stale: boolean;
  problem: boolean;
  hover: string;
}

interface LineAnnotation {
  line: number;
  text: string;
  problem: boolean;
  hover: string;
}

const formatNorm = (value: number | undefined): string => formatGradNorm(value, 2);

const lastOf = (values: number[]): number | undefined => values[values.length - 1];

/** One annotation per source line (layers made in a loop share their line). */
export function annotationsFor(result: ProbeResult): LineAnnotation[] {
  const verdictsOf = (layer: ProbeLayerResult): VerdictKind[] => result.verdicts.filter((v) => v.layers.includes(layer.name)).map((v) => v.kind);
  const weighted = result.layers.filter((l) => l.gradNorm.length > 0);
  const lastNorm = lastOf(weighted[weighted.length - 1]?.gradNorm ?? []);
  const byLine = new Map<number, ProbeLayerResult[]>();
  for (const layer of result.layers) {
    if (layer.gradNorm.length === 0 && verdictsOf(layer).length === 0) continue;
    byLine.set(layer.line, [...(byLine.get(layer.line) ?? []), layer]);
  }
  return [...byLine].map(([line, layers]) => {
    const norms = layers.map((l) => lastOf(l.gradNorm)).filter((n): n is number => n !== undefined);
    const kinds = [...new Set(layers.flatMap(verdictsOf))];
    const min = Math.min(...norms);
    const max = Math.max(...norms);
    const value = norms.length === 0 ? '' : norms.length === 1 || min === max ? `∇ ${formatNorm(norms[0])}` : `∇ ${formatNorm(min)}…${formatNorm(max)} (${layers.length} layers)`;
    const text = [value, kinds.join(', ')].filter(Boolean).join(' ');
    const hover = [
      `**Gradient Lens probe** — ${layers.map((l) => `\`${l.name}\``).join(', ')}`,
      '',
      norms.length
        ? `∇ is the L2 norm of the gradient of the loss with respect to this layer's weights at the last of ${result.steps} training steps (batch ${result.batchSize}, seed ${result.seed}, ${result.optimizer}, synthetic data). ` +
          `First step: ${layers.map((l) => formatNorm(l.gradNorm[0])).join(', ')}. Last layer at the last step: ${formatNorm(lastNorm)}.`
        : 'This layer has no weights; it is named by a verdict.',
      '',
      `Vanishing means the first layer gets less than ${DEFAULT_THRESHOLDS.vanishingRatio} of the last layer's gradient norm and under ${DEFAULT_THRESHOLDS.vanishingFirstNorm} in absolute terms: its weights barely move (Glorot & Bengio 2010). ` +
        `Exploding means a ratio above ${DEFAULT_THRESHOLDS.explodingRatio} or norms that grow by more than ${DEFAULT_THRESHOLDS.explodingGrowth}× (Pascanu et al. 2013).`,
      ...result.verdicts.filter((v) => layers.some((l) => v.layers.includes(l.name))).map((v) => `\n- **${v.kind}** (${v.severity}): ${v.message}`),
    ].join('\n');
    return { line, text, problem: kinds.length > 0, hover };
  });
}

export class ProbeDecorations implements vscode.Disposable {
  private readonly annotation = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em' },
  });
  private readonly problem: vscode.TextEditorDecorationType;
  private readonly stale = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('disabledForeground'), margin: '0 0 0 2em', fontStyle: 'italic' },
  });
  /** Per document URI: the annotations and whether the document changed since. */
  private readonly shown = new Map<string, { annotations: LineAnnotation[]; stale: boolean }>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly staleEmitter = new vscode.EventEmitter<string>();
  /** Fires with the document URI when its annotations go stale. */
  readonly onDidGoStale = this.staleEmitter.event;

  constructor(extensionUri: vscode.Uri) {
    this.problem = vscode.window.createTextEditorDecorationType({
      gutterIconPath: vscode.Uri.joinPath(extensionUri, 'media', 'probe-problem.svg'),
      gutterIconSize: 'contain',
      overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.warningForeground'),
      overviewRulerLane: vscode.OverviewRulerLane.Right,
    });
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        const entry = this.shown.get(e.document.uri.toString());
        if (!entry || entry.stale || e.contentChanges.length === 0) return;
        entry.stale = true;
        this.refresh(e.document.uri.toString());
        this.staleEmitter.fire(e.document.uri.toString());
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.shown.forEach((_, uri) => this.refresh(uri))),
      vscode.workspace.onDidCloseTextDocument((d) => this.shown.delete(d.uri.toString())),
    );
  }

  show(uri: vscode.Uri, result: ProbeResult): void {
    this.shown.set(uri.toString(), { annotations: annotationsFor(result), stale: false });
    this.refresh(uri.toString());
  }

  snapshot(): AnnotationSnapshot[] {
    return [...this.shown].flatMap(([uri, entry]) => entry.annotations.map((a) => ({ uri, line: a.line, text: a.text, stale: entry.stale, problem: a.problem, hover: a.hover })));
  }

  private refresh(uri: string): void {
    const entry = this.shown.get(uri);
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() !== uri) continue;
      const lines = (entry?.annotations ?? []).filter((a) => a.line - 1 < editor.document.lineCount);
      const options = (a: LineAnnotation, suffix: string): vscode.DecorationOptions => {
        const range = editor.document.lineAt(a.line - 1).range;
        const hover = new vscode.MarkdownString(a.hover);
        return { range, hoverMessage: hover, renderOptions: { after: { contentText: `${a.text}${suffix}` } } };
      };
      const stale = entry?.stale ?? false;
      editor.setDecorations(this.annotation, stale ? [] : lines.map((a) => options(a, '')));
      editor.setDecorations(this.stale, stale ? lines.map((a) => options(a, ' (stale: re-probe)')) : []);
      editor.setDecorations(this.problem, stale ? [] : lines.filter((a) => a.problem).map((a) => ({ range: editor.document.lineAt(a.line - 1).range })));
    }
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
    this.staleEmitter.dispose();
    this.annotation.dispose();
    this.problem.dispose();
    this.stale.dispose();
  }
}
