/** Export of a probe: raw JSON, the self-contained HTML report (the panel's bundle inlined), or a PNG of the charts. */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { nonceFrom, reportPageHtml } from '../../shared/panel-page';
import type { ProbeResult } from '../../shared/probe';

export interface ExportTarget {
  uri: vscode.Uri;
}

const FILTERS: Record<'json' | 'html' | 'png', Record<string, string[]>> = {
  json: { 'Probe result (JSON)': ['json'] },
  html: { 'HTML report': ['html'] },
  png: { 'PNG image': ['png'] },
};

async function readDist(extensionUri: vscode.Uri, file: string): Promise<string> {
  return new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', file)));
}

export async function reportHtml(extensionUri: vscode.Uri, result: ProbeResult): Promise<string> {
  const [script, style] = await Promise.all([readDist(extensionUri, 'webview.js'), readDist(extensionUri, 'webview.css')]);
  return reportPageHtml(result, { script, style }, nonceFrom(randomBytes(16)));
}

/** Returns where it wrote, or null when the user cancelled the dialog or there was nothing to write. */
export async function exportProbe(extensionUri: vscode.Uri, result: ProbeResult, documentUri: vscode.Uri, format: 'json' | 'html' | 'png', target: ExportTarget | null, pngDataUrl: string | null): Promise<vscode.Uri | null> {
  let png: Uint8Array | null = null;
  if (format === 'png') {
    if (!pngDataUrl) {
      void vscode.window.showInformationMessage('Gradient Lens: export the PNG from the panel (its charts are drawn there).');
      return null;
    }
    png = Buffer.from(pngDataUrl.slice('data:image/png;base64,'.length), 'base64');
  }
  const uri =
    target?.uri ??
    (await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(documentUri, '..', `${result.model.name}-probe.${format}`),
      filters: FILTERS[format],
      title: `Export the probe of ${result.model.name}`,
    }));
  if (!uri) return null;
  const bytes = png ?? new TextEncoder().encode(format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : await reportHtml(extensionUri, result));
  await vscode.workspace.fs.writeFile(uri, bytes);
  return uri;
}
