/**
 * Probe numbers next to the code: `∇ 2.4e-13 vanishing` at the end of each layer line, problem layers
 * marked in the gutter and overview ruler, a hover explaining the number; when the document is edited
 * after the probe the annotations turn stale (dimmed, "(stale)") until the next probe.
 */
import * as vscode from 'vscode';
import type { ProbeResult } from '../../shared/probe';
import { annotationsFor, type LineAnnotation } from './annotations';

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
