/** dist/server.js: runs the language server's bundle (src/server/main.ts) with the code cache (run-bundle.ts). */
import { runBundle } from './run-bundle';

runBundle(__filename, 'server-bundle.js');
