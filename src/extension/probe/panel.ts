/**
 * The probe panel's host: one webview panel beside the editor, with a strict CSP (nonce), resources
 * only from dist/ through asWebviewUri, typed messages validated on receipt, and a serializer so the
 * panel comes back after a window reload (the webview restores its own getState/setState).
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { guardedListener } from '../../shared/message-guard';
import { nonceFrom, panelPageHtml } from '../../shared/panel-page';
import { isPanelState, isWebviewToHostMessage, type HostToWebviewMessage, type PanelState, type WebviewToHostMessage } from '../../shared/webview-messages';

export const PANEL_VIEW_TYPE = 'gradientLens.probePanel';

export class ProbePanel implements vscode.Disposable {
  private ready = false;
  private readonly queue: HostToWebviewMessage[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly disposedEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposedEmitter.event;
  /** The model shown (restored from the webview's state after a reload). */
  modelId: string | null = null;
  documentUri: string | null = null;

  static create(extensionUri: vscode.Uri, onMessage: (message: WebviewToHostMessage, panel: ProbePanel) => void): ProbePanel {
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'Gradient Lens: Probe', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, ProbePanel.webviewOptions(extensionUri));
    return new ProbePanel(panel, extensionUri, onMessage, null);
  }

  static webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')] };
  }

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly onMessage: (message: WebviewToHostMessage, panel: ProbePanel) => void,
    restored: PanelState | null,
  ) {
    this.modelId = restored?.modelId ?? null;
    this.documentUri = restored?.documentUri ?? null;
    const webview = panel.webview;
    webview.options = ProbePanel.webviewOptions(extensionUri);
    const dist = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', file)).toString();
    webview.html = panelPageHtml({
      nonce: nonceFrom(randomBytes(16)),
      title: 'Gradient Lens probe',
      resourceOrigin: webview.cspSource,
      script: { uri: dist('webview.js') },
      style: { uri: dist('webview.css') },
      initialState: null,
    });
    this.disposables.push(
      webview.onDidReceiveMessage(
        guardedListener('probe panel', isWebviewToHostMessage, (message) => {
          if (message.type === 'ready') this.flush();
          this.onMessage(message, this);
        }),
      ),
      panel.onDidDispose(() => { this.dispose(); }),
    );
  }

  reveal(): void {
    this.panel.reveal(vscode.ViewColumn.Beside, true);
  }

  post(message: HostToWebviewMessage): void {
    if (message.type === 'show-result') {
      this.modelId = message.modelId;
      this.documentUri = message.documentUri;
    }
    if (this.ready) void this.panel.webview.postMessage(message);
    else this.queue.push(message);
  }

  private flush(): void {
    this.ready = true;
    for (const message of this.queue.splice(0)) void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    this.disposables.splice(0).forEach((d) => {
      d.dispose();
    });
    this.disposedEmitter.fire();
    this.disposedEmitter.dispose();
    this.panel.dispose();
  }
}

/** Brings the panel back after a reload with the state the webview saved. */
export function registerPanelSerializer(extensionUri: vscode.Uri, adopt: (panel: ProbePanel) => void, onMessage: (message: WebviewToHostMessage, panel: ProbePanel) => void): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
    deserializeWebviewPanel(webviewPanel: vscode.WebviewPanel, state: unknown): Thenable<void> {
      adopt(new ProbePanel(webviewPanel, extensionUri, onMessage, isPanelState(state) ? state : null));
      return Promise.resolve();
    },
  });
}
