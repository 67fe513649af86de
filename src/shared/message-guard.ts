/**
 * How every message channel accepts what arrives from the other side (the analysis worker thread, the
 * probe process, the probe panel's webview): a value is `unknown` until its channel's guard accepts
 * it; anything else is dropped, never interpreted, and the channel says so once per kind.
 */

/** A type guard for one channel's messages. */
export type MessageGuard<T> = (value: unknown) => value is T;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Whether `value` is an object whose `field` is one of `tags` (the discriminant of a message union). */
export function hasTag<K extends string, V extends string>(value: unknown, field: K, tags: readonly V[]): value is Record<K, V> & Record<string, unknown> {
  return isObject(value) && typeof value[field] === 'string' && (tags as readonly string[]).includes(value[field]);
}

/**
 * A message listener that passes accepted messages to `handle` and reports the first rejected one
 * (with its `type`/`kind` when it has one) to `reject`: a channel with a bug shows it, a hostile
 * sender cannot flood the log.
 */
export function guardedListener<T>(channel: string, guard: MessageGuard<T>, handle: (message: T) => void, reject?: (problem: string) => void): (value: unknown) => void {
  let reported = false;
  return (value) => {
    if (guard(value)) {
      handle(value);
      return;
    }
    if (reported || !reject) return;
    reported = true;
    const tag = isObject(value) ? (value.type ?? value.kind) : undefined;
    reject(`${channel}: ignored a malformed message${typeof tag === 'string' ? ` (${JSON.stringify(tag).slice(0, 60)})` : ''}`);
  };
}
