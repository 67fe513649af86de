/**
 * Suppressions typed into an open file (the editor's incremental project): a file without any directive
 * is not searched whole again per keystroke, and a model whose findings are kept between analyses is
 * kept with the suppressions they were filtered by. Whatever the keystrokes, a directive once spelled
 * applies, and one deleted applies no more.
 */
import { describe, expect, it } from 'vitest';
import { Project } from '../../../src/analysis/project';
import { diffEdit } from '../../../src/server/sourceEdit';
import { defined } from '../../defined';
import { SIGMOID_STACK } from '../cli/run-cli';

/** A stack of sigmoid layers (GL101 on its first) at module level, and a function apart from it. */
const MODEL = `${SIGMOID_STACK}

def helper():
    return 1
`;

/** The codes found after each text, typed one after the other into one incremental project. */
async function codesAfter(texts: readonly string[]): Promise<string[][]> {
  const project = await Project.create({ incremental: true });
  const path = '/project/model.py';
  try {
    let text = MODEL;
    project.setFile(path, text);
    const codes = [project.analyzeFile(path).findings.map((f) => f.code)];
    for (const next of texts) {
      project.setFile(path, next, defined(diffEdit(text, next)));
      codes.push(project.analyzeFile(path).findings.map((f) => f.code));
      text = next;
    }
    return codes;
  } finally {
    project.dispose();
  }
}

describe('suppressions typed into a file that had none', () => {
  it('apply when the directive is spelled across keystrokes', async () => {
    const line = '    layers.Dense(256, activation="sigmoid"),\n';
    const at = MODEL.indexOf(line) + line.length - 1;
    const typed = (comment: string) => MODEL.slice(0, at) + comment + MODEL.slice(at);
    expect(await codesAfter([typed('  # no'), typed('  # noq'), typed('  # noqa'), typed('  # noq')])).toEqual([['GL101'], ['GL101'], ['GL101'], [], ['GL101']]);
  });

  it('apply to a model whose findings are kept: a file-wide directive typed in another function', async () => {
    const inHelper = (comment: string) => MODEL.replace('    return 1\n', `    ${comment}\n    return 1\n`);
    expect(await codesAfter([inHelper('# gradient-'), inHelper('# gradient-lens: ignore-file[GL101]'), inHelper('# gradient-lens: ignore-file[GL1]')])).toEqual([['GL101'], ['GL101'], [], ['GL101']]);
  });
});
