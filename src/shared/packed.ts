/**
 * Arrays V8 keeps packed whichever tier builds them. V8 (Node 20) compiles an inlined `items.map(f)` to
 * a result allocated at its length, a holey array, where the interpreter's builtin makes a packed one:
 * the same line hands later code arrays of two kinds. Code optimized on the kind it saw meets the other
 * and is thrown away ("wrong map"). Every model's `layers` turned holey once makeModel was optimized,
 * and each rule reading them was deoptimized; `propagate` (knowledge/propagation.ts), which maps arrays
 * and reads them itself, where the interpreter's feedback never sees a holey one, was deoptimized every
 * few calls for good, and compiled again each time (60-110 ms of a background thread; the prediction of
 * a model-dense file's 226 models took 12-40 ms instead of 5 while it was). Arrays that other code or
 * array methods read are made here.
 */
export function mapPacked<T, U>(items: readonly T[], f: (item: T, index: number) => U): U[] {
  const out: U[] = [];
  for (let i = 0; i < items.length; i++) out.push(f(items[i]!, i));
  return out;
}
