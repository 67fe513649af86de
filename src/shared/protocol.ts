/**
 * Custom LSP messages between the extension and the language server, declared once as typed
 * request objects (rust-analyzer's convention). Both sides import these; nothing is sent by name.
 */
import { RequestType0 } from 'vscode-languageserver-protocol';

export interface ServerStatus {
  /** The server process id: changes when the server is restarted. */
  pid: number;
  /** Milliseconds since the server process started. */
  uptimeMs: number;
  /** Python files read from disk for cross-file facts. */
  indexedFiles: number;
  /** Open documents and notebooks. */
  openDocuments: number;
  /** Resident set size and V8 heap in use, bytes. */
  rssBytes: number;
  heapUsedBytes: number;
  /** Duration of the most recent analysis, milliseconds. */
  lastAnalysisMs: number;
  /** Times the analysis worker was replaced after an analysis ran past its time limit or the worker died. */
  analysisRestarts: number;
}

export const ServerStatusRequest = new RequestType0<ServerStatus, void>('gradientLens/serverStatus');
