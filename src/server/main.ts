/**
 * Entry point of dist/server.js. The transport comes from the command line, as vscode-languageclient
 * passes it: `--stdio`, `--node-ipc` or `--socket=PORT`.
 */
import { ProposedFeatures, createConnection } from 'vscode-languageserver/node';
import { GradientLensServer } from './server';

const connection = createConnection(ProposedFeatures.all);
new GradientLensServer(connection).listen();
