/** A text edit that sets `name=value` in a call written in source: replaces the value or adds the keyword. */
import type { Range } from '../../../shared/ir';
import type { TextEdit } from '../../../shared/findings';
import { parseCallArguments } from './call-arguments';
import { lineStarts, offsetAt, rangeOf } from './text-offsets';

/** How much code around a call decides the quote style when the call itself has no strings. */
const NEIGHBOURHOOD = 2000;

/** A string literal value in the quote style the code around it uses (the call first, else the code near it). */
function inHouseQuotes(value: string, callText: string, nearText: string): string {
  const literal = /^'([^'"\\]*)'$/.exec(value);
  if (!literal) return value;
  const count = (text: string, quote: string) => text.split(quote).length - 1;
  const [doubles, singles] = count(callText, '"') + count(callText, "'") > 0 ? [count(callText, '"'), count(callText, "'")] : [count(nearText, '"'), count(nearText, "'")];
  return doubles > singles ? `"${literal[1]}"` : value;
}

/**
 * `value` is Python source; a single-quoted string literal is re-quoted to match the surrounding code.
 * Returns null when the call cannot be read or when `**kwargs` might already pass the keyword
 * (adding it could then raise "got multiple values").
 */
export function keywordArgumentEdit(file: string, text: string, call: Range, keyword: string, value: string): TextEdit | null {
  const starts = lineStarts(text);
  const start = offsetAt(starts, call.start);
  const end = offsetAt(starts, call.end);
  if (!Number.isFinite(start) || !Number.isFinite(end)) return null;
  const parsed = parseCallArguments(text, start, end);
  if (!parsed) return null;
  value = inHouseQuotes(value, text.slice(parsed.open, parsed.close), text.slice(Math.max(0, start - NEIGHBOURHOOD), end + NEIGHBOURHOOD));
  const existing = parsed.args.find((a) => a.keyword === keyword);
  if (existing) {
    if (text.slice(existing.valueStart, existing.valueEnd) === value) return null;
    return { file, range: rangeOf(starts, existing.valueStart, existing.valueEnd), newText: value };
  }
  if (parsed.args.some((a) => a.unpacked && text.startsWith('**', a.start))) return null;
  const last = parsed.args[parsed.args.length - 1];
  const at = last ? last.end : parsed.open + 1;
  return { file, range: rangeOf(starts, at, at), newText: `${last ? ', ' : ''}${keyword}=${value}` };
}
