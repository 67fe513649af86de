/** How messages quote source: one line whatever the layout, cut at SNIPPET_LENGTH. */
import { describe, expect, it } from 'vitest';
import { oneLine, SNIPPET_LENGTH, sourceSnippet } from '../../../src/shared/source-snippet';

describe('source snippets in messages', () => {
  it('reads line continuations and breaks inside brackets as one space, so a note stays one line', () => {
    expect(oneLine("Sequential([layer for layer in disc.layers[:-1]]+\\\n                     [Dense(32)])")).toBe('Sequential([layer for layer in disc.layers[:-1]]+ [Dense(32)])');
    expect(oneLine('nn.Sequential(\r\n    nn.Linear(4, 4),\n)')).toBe('nn.Sequential( nn.Linear(4, 4), )');
    expect(sourceSnippet('x\n')).toBe('x');
  });

  it(`cuts at ${SNIPPET_LENGTH} characters with "..."`, () => {
    const long = `layers.Dense(${'1'.repeat(100)})`;
    expect(sourceSnippet(long)).toHaveLength(SNIPPET_LENGTH);
    expect(sourceSnippet(long).endsWith('...')).toBe(true);
    expect(sourceSnippet('layers.Dense(64)')).toBe('layers.Dense(64)');
  });
});
