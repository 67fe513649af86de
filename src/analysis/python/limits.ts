/**
 * The one set of limits of the Python evaluation core, and the notes that say when one was reached.
 * Both framework recognisers (Keras, PyTorch) evaluate within these bounds: recursion, huge loops
 * and self-referencing code end in an unknown value plus one note naming the construct and its line,
 * never in a crash, a hang or a silently wrong model.
 */
import type { Range } from '../../shared/ir';
import { sourceSnippet } from '../../shared/source-snippet';

export const LIMITS = {
  /** Nested calls (functions, methods, constructors, inlined helpers and custom layers). */
  callDepth: 10,
  /** Nested calls for the Keras reader, which inlines a helper on every application. */
  inlineDepth: 6,
  /** Statements one file's evaluation may execute (every unrolled iteration counts). */
  steps: 100_000,
  /** Longest constant sequence a loop, range() or comprehension is unrolled over. */
  loopIterations: 256,
  /** Iterations nested constant loops may unroll together; beyond it a loop counts as unbounded. */
  unrolledIterations: 4096,
  /** Layer applications recorded for one model. */
  traceNodes: 4000,
  /** Nesting of one expression (generated `a + b + c + ...` chains thousands deep). */
  expressionDepth: 150,
  /** Entries of a config dict a construction is run once for (a key the code does not fix); more are read as one. */
  configEntries: 4,
  /**
   * Passes of a `while` loop unrolled on a known condition (a pyramid halving a side runs a few); one
   * still running after them (a training loop counting its steps) is read as a loop of unknown bounds.
   */
  whilePasses: 32,
} as const;

export type LimitKind = 'recursion' | 'steps' | 'loop' | 'trace' | 'expression';

export interface EvalNote {
  what: string;
  range: Range;
}

const WHY: Record<LimitKind, string> = {
  recursion: `calls nested deeper than ${LIMITS.callDepth} (recursion or self-reference); the result is unknown`,
  steps: `the evaluation budget of ${LIMITS.steps} statements was used up; what remains is unknown`,
  loop: `a loop longer than ${LIMITS.loopIterations} iterations (or ${LIMITS.unrolledIterations} when nested) is read once, not unrolled`,
  trace: `more than ${LIMITS.traceNodes} layer applications; the rest of the model is left out`,
  expression: `an expression nested deeper than ${LIMITS.expressionDepth} levels; its value is unknown`,
};

/** Why a model's trace stopped (the torch reader records at most LIMITS.traceNodes layer applications). */
export const TRACE_CUT = WHY.trace;

/** Whether `notes` say the file's statement budget ran out (a budget for the whole file, not for a part of it). */
export function ranOutOfSteps(notes: readonly EvalNote[]): boolean {
  return notes.some((n) => n.what.endsWith(`: ${WHY.steps}`));
}

/** Notes collected while evaluating one file: one per construct and line (deduplicated). */
export class EvalNotes {
  readonly notes: EvalNote[] = [];
  private readonly seen = new Set<string>();

  add(what: string, range: Range): void {
    const key = `${range.start.line}:${range.start.character}:${what}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.notes.push({ what, range });
  }

  /** A limit was reached at `construct` (as written, shortened) located at `range`. */
  limit(kind: LimitKind, construct: string, range: Range): void {
    this.add(`${sourceSnippet(construct.replace(/\s+/g, ' '))}: ${WHY[kind]}`, range);
  }
}
