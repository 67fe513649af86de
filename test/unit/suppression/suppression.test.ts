import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSuppressed, parseSuppressions, scanComments } from '../../../src/analysis/suppression';

const KNOWN = ['GL101', 'GL102', 'GL203', 'GL301'];

describe('scanComments', () => {
  it('finds comments but never a # inside single, triple-quoted, prefixed or escaped strings', () => {
    const source = [
      "url = 'http://x/#anchor'  # real one",
      'doc = """',
      '# not a comment, inside a docstring',
      '"""',
      "fmt = f\"{x}#{y}\" + rb'#raw\\'#' # second",
      'esc = "quote \\" # still string" # third',
      "multi = '''a ''' # fourth",
    ].join('\n');
    const comments = scanComments(source);
    expect(comments.map((c) => [c.line, c.text])).toEqual([
      [0, '# real one'],
      [4, '# second'],
      [5, '# third'],
      [6, '# fourth'],
    ]);
    expect(comments[0]!.column).toBe(26);
  });

  it('handles CRLF line endings and an unterminated string without losing later lines', () => {
    const comments = scanComments("a = 'open\r\nb = 1  # noqa\r\n");
    expect(comments).toEqual([{ text: '# noqa', line: 1, column: 7 }]);
  });
});

describe('parseSuppressions', () => {
  it('bare noqa suppresses every code on its line only', () => {
    const s = parseSuppressions('x = Dense(4)  # noqa\ny = Dense(4)\n', KNOWN);
    expect(isSuppressed(s, 'GL101', 0)).toBe(true);
    expect(isSuppressed(s, 'GL301', 0)).toBe(true);
    expect(isSuppressed(s, 'GL101', 1)).toBe(false);
    expect(s.notices).toEqual([]);
  });

  it('noqa with codes suppresses just those codes, any case and separator, ignoring other tools codes', () => {
    const s = parseSuppressions('a = 1  # noqa: GL101,gl203 E501\nb = 2  # NOQA:GL102\nc = 3  # noqa: E501\n', KNOWN);
    expect(isSuppressed(s, 'GL101', 0)).toBe(true);
    expect(isSuppressed(s, 'GL203', 0)).toBe(true);
    expect(isSuppressed(s, 'GL102', 0)).toBe(false);
    expect(isSuppressed(s, 'GL102', 1)).toBe(true);
    expect(isSuppressed(s, 'GL101', 2)).toBe(false);
    expect(s.notices).toEqual([]);
  });

  it('reads gradient-lens ignore and ignore-file directives, also after another comment', () => {
    const source = [
      '# gradient-lens: ignore-file[GL301]',
      'model = Sequential([',
      "    Dense(64, activation='tanh'),  # type: ignore  # gradient-lens: ignore[GL101, GL203]",
      '])',
    ].join('\n');
    const s = parseSuppressions(source, KNOWN);
    expect(isSuppressed(s, 'GL301', 3)).toBe(true);
    expect(isSuppressed(s, 'GL101', 2)).toBe(true);
    expect(isSuppressed(s, 'GL203', 2)).toBe(true);
    expect(isSuppressed(s, 'GL102', 2)).toBe(false);
    expect(isSuppressed(s, 'GL101', 3)).toBe(false);
    const ignore = s.directives.find((d) => d.kind === 'ignore');
    const layerLine = source.split('\n')[2]!;
    expect(ignore?.codes.map((c) => [c.code, c.range.start.character])).toEqual([
      ['GL101', layerLine.indexOf('GL101')],
      ['GL203', layerLine.indexOf('GL203')],
    ]);
  });

  it('bare ignore-file suppresses everything in the file', () => {
    const s = parseSuppressions('x = 1\n# gradient-lens: ignore-file\n', KNOWN);
    expect(isSuppressed(s, 'GL102', 0)).toBe(true);
  });

  it('does not treat directives inside strings as suppressions', () => {
    const s = parseSuppressions("msg = '# noqa: GL101'\nnote = \"# gradient-lens: ignore-file[GL301]\"\n", KNOWN);
    expect(isSuppressed(s, 'GL101', 0)).toBe(false);
    expect(isSuppressed(s, 'GL301', 1)).toBe(false);
    expect(s.directives).toEqual([]);
  });

  it('reports unknown codes and directives as notices with the code range', () => {
    const s = parseSuppressions('a = 1  # noqa: GL999\nb = 2  # gradient-lens: disable[GL101]\nc = 3  # gradient-lens: ignore[]\n', KNOWN);
    expect(s.notices.map((n) => n.message)).toEqual([
      'Unknown rule code GL999 in suppression comment (known: GL101, GL102, GL203, GL301)',
      'Unknown gradient-lens directive "disable" (use ignore[CODE] or ignore-file[CODE])',
      '`ignore[]` lists no codes; it suppresses nothing',
    ]);
    expect(s.notices[0]!.range).toEqual({ start: { line: 0, character: 15 }, end: { line: 0, character: 20 } });
    expect(isSuppressed(s, 'GL101', 2)).toBe(false);
  });

  it('uses the registry codes when none are given', () => {
    const s = parseSuppressions('x = 1  # noqa: GL101, GL999\n');
    expect(s.notices.map((n) => n.message.split(' (')[0])).toEqual(['Unknown rule code GL999 in suppression comment']);
  });
});

describe('scanComments on generated lines', () => {
  // Any string literal content (quotes escaped as Python requires) followed by a comment: the
  // scanner must report exactly that comment, never a '#' from inside the literal.
  const literal = fc
    .tuple(fc.constantFrom("'", '"', "'''", '"""'), fc.constantFrom('', 'r', 'b', 'f', 'rb', 'u'), fc.string({ unit: fc.constantFrom('a', '#', ' ', '\\', "'", '"', 'é', 'x') }))
    .map(([quote, prefix, body]) => {
      const q = quote[0]!;
      // Escape backslashes and the quote character so the literal closes where it should.
      let escaped = body.replace(/\\/g, '\\\\').split(q).join(`\\${q}`);
      if (prefix.includes('r')) escaped = escaped.replace(/\\\\/g, 'x'); // raw: no escaped backslashes
      return `${prefix}${quote}${escaped}${quote}`;
    });

  it('finds only the trailing comment', () => {
    fc.assert(
      fc.property(fc.array(literal, { minLength: 1, maxLength: 4 }), fc.boolean(), (literals, withComment) => {
        const line = `value = ${literals.join(' + ')}${withComment ? '  # noqa: GL101' : ''}`;
        const comments = scanComments(`${line}\nnext = 1\n`);
        expect(comments.map((c) => c.text)).toEqual(withComment ? ['# noqa: GL101'] : []);
        if (withComment) expect(comments[0]!.column).toBe(line.indexOf('  # noqa') + 2);
      }),
      { numRuns: 300 },
    );
  });
});
