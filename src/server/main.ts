/**
 * Entry point of dist/server.js. In the main thread it is the language server, with the transport
 * from the command line as vscode-languageclient passes it (`--stdio`, `--node-ipc`, `--socket=PORT`);
 * the same bundle, started as a worker thread, is the analysis worker (see analysisHost.ts).
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import { ProposedFeatures, createConnection } from 'vscode-languageserver/node';
import { runAnalysisWorker } from './analysisWorker';
import { GradientLensServer } from './server';

if (isMainThread) {
  new GradientLensServer(createConnection(ProposedFeatures.all)).listen();
} else if (parentPort) {
  runAnalysisWorker(parentPort);
}
