/**
 * The value, else the test fails here saying what was missing. Tests use it where `!` would assert:
 * vitest's `expect(x).toBeDefined()` does not narrow the type.
 */
export function defined<T>(value: T, what = 'value'): NonNullable<T> {
  if (value === undefined || value === null) throw new Error(`expected a ${what}, got ${String(value)}`);
  return value;
}
