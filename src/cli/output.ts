/** Where reports go: stdout, or a file given with --output. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Writes `text` to `outputFile` (creating its folder) or stdout; returns an error message or null. */
export function writeReport(text: string, outputFile: string | undefined): string | null {
  if (outputFile === undefined) {
    process.stdout.write(text);
    return null;
  }
  try {
    const path = resolve(outputFile);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return null;
  } catch (error) {
    return `cannot write ${outputFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
  }
}

/** A usage or configuration problem: stderr, prefixed with the program name. */
export function printProblem(message: string): void {
  process.stderr.write(`gradient-lens: ${message}\n`);
}
