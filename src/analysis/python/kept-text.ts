/**
 * Text kept by a cache that outlives the file version it was cut from. V8 makes a substring of a long
 * string a view into it (a sliced string), so a 2 kB statement kept as a cache key held its whole
 * 200 kB file alive: each edit of a 5,000-line file kept one more version of the file (about 230 kB
 * per keystroke, 250 MB after 1,000). A cache stores the copy this returns instead (of a string, or of plain data holding strings).
 */
export function keptText<T>(value: T): T {
  // structuredClone writes the characters out and reads them into new strings of their own (a plain
  // value holding strings, such as a set of names, is copied whole).
  return structuredClone(value);
}
