/** Document URIs and the paths the analyzer keys files by. Non-file documents (untitled:) keep their URI as key. */
import { fileURLToPath, pathToFileURL } from 'node:url';

export function pathOfUri(uri: string): string {
  if (!uri.startsWith('file:')) return uri;
  try {
    return fileURLToPath(uri);
  } catch {
    return uri;
  }
}

export function uriOfPath(path: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) && !/^[a-z]:[\\/]/i.test(path)) return path; // already a URI (untitled:...)
  return pathToFileURL(path).href;
}
