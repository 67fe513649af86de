/**
 * Probe numbers next to the code: `∇ 2.4e-13 vanishing` at the end of each layer line, problem layers
 * marked in the gutter and overview ruler, a hover explaining the number; when the document is edited
 * after the probe the annotations turn stale (dimmed, "(stale)") until the next probe.
 */
import * as vscode from 'vscode';
import type { ProbeResult } from '../../shared/probe';
import { annotationsFor, type LineAnnotation } from './annotations';
import type { DocumentModels } from './models';

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

/**
 * Told the 0-based lines of a document where a probe shows measured values that are not stale (empty
 * when none): the language server's predicted inlay hints give way there (MeasuredLinesNotification).
 */
export type MeasuredLinesListener = (uri: string, lines: number[]) => void;

export class ProbeDecorations implements vscode.Disposable {
  private readonly annotation = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em' },
  });
  private readonly problem: vscode.TextEditorDecorationType;
  private readonly stale = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('disabledForeground'), margin: '0 0 0 2em', fontStyle: 'italic' },
  });
  /**
   * Per document URI: its annotations (0-based editor lines) and the probe they came from. The
   * documents of one probe (a notebook's cells) share `probe`: an edit to any of them stales all.
   */
  private readonly shown = new Map<string, { annotations: LineAnnotation[]; probe: { stale: boolean; uri: string } }>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly staleEmitter = new vscode.EventEmitter<string>();
  /** Fires with the document URI when its annotations go stale. */
  readonly onDidGoStale = this.staleEmitter.event;

  /** Per document URI, the measured lines last reported (as a key, to report changes only). */
  private readonly reported = new Map<string, string>();

  constructor(
    extensionUri: vscode.Uri,
    private readonly onMeasuredLines: MeasuredLinesListener,
  ) {
    this.problem = vscode.window.createTextEditorDecorationType({
      gutterIconPath: vscode.Uri.joinPath(extensionUri, 'media', 'probe-problem.svg'),
      gutterIconSize: 'contain',
      overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.warningForeground'),
      overviewRulerLane: vscode.OverviewRulerLane.Right,
    });
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        const entry = this.shown.get(e.document.uri.toString());
        if (!entry || entry.probe.stale || e.contentChanges.length === 0) return;
        entry.probe.stale = true;
        for (const [uri, other] of this.shown) if (other.probe === entry.probe) this.refresh(uri);
        this.staleEmitter.fire(entry.probe.uri);
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => { this.shown.forEach((_, uri) => { this.refresh(uri); }); }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.shown.delete(d.uri.toString());
        this.report(d.uri.toString(), []);
      }),
    );
  }

  /** Annotates the layer lines of `source`'s probe: in the document, or in the notebook cells that hold them. */
  show(source: DocumentModels, result: ProbeResult): void {
    const probe = { stale: false, uri: source.uri.toString() };
    const previous = [...this.shown].filter(([, entry]) => entry.probe.uri === probe.uri).map(([uri]) => uri);
    for (const uri of previous) this.shown.delete(uri);
    const byUri = new Map<string, LineAnnotation[]>();
    for (const annotation of annotationsFor(result)) {
      const at = source.lineToEditor(annotation.line);
      if (!at) continue;
      const key = at.uri.toString();
      byUri.set(key, [...(byUri.get(key) ?? []), { ...annotation, line: at.line }]);
    }
    for (const [uri, annotations] of byUri) this.shown.set(uri, { annotations, probe });
    for (const uri of new Set([...previous, ...byUri.keys()])) this.refresh(uri);
  }

  snapshot(): AnnotationSnapshot[] {
    return [...this.shown].flatMap(([uri, entry]) => entry.annotations.map((a) => ({ uri, line: a.line + 1, text: a.text, stale: entry.probe.stale, problem: a.problem, hover: a.hover })));
  }

  private report(uri: string, lines: number[]): void {
    const key = [...new Set(lines)].sort((a, b) => a - b).join(',');
    if ((this.reported.get(uri) ?? '') === key) return;
    if (key === '') this.reported.delete(uri);
    else this.reported.set(uri, key);
    this.onMeasuredLines(uri, key === '' ? [] : key.split(',').map(Number));
  }

  private refresh(uri: string): void {
    const entry = this.shown.get(uri);
    this.report(uri, entry && !entry.probe.stale ? entry.annotations.map((a) => a.line) : []);
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() !== uri) continue;
      const lines = (entry?.annotations ?? []).filter((a) => a.line < editor.document.lineCount);
      const options = (a: LineAnnotation, suffix: string): vscode.DecorationOptions => {
        const range = editor.document.lineAt(a.line).range;
        const hover = new vscode.MarkdownString(a.hover);
        return { range, hoverMessage: hover, renderOptions: { after: { contentText: `${a.text}${suffix}` } } };
      };
      const stale = entry?.probe.stale ?? false;
      editor.setDecorations(this.annotation, stale ? [] : lines.map((a) => options(a, '')));
      editor.setDecorations(this.stale, stale ? lines.map((a) => options(a, ' (stale: re-probe)')) : []);
      editor.setDecorations(this.problem, stale ? [] : lines.filter((a) => a.problem).map((a) => ({ range: editor.document.lineAt(a.line).range })));
    }
  }

  dispose(): void {
    this.subscriptions.forEach((s) => {
      s.dispose();
    });
    this.staleEmitter.dispose();
    this.annotation.dispose();
    this.problem.dispose();
    this.stale.dispose();
  }
}
