/**
 * The probe in-process (as the tests and the worker load it) writes nothing to the console: tfjs's
 * own "install our node backend" banner, printed when the cpu backend first holds a tensor, is off.
 * Its own file, so the cpu backend's first use happens here.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { selectBackend } from '../../src/probe/backend';

afterEach(() => vi.restoreAllMocks());

describe('probe console output', () => {
  it('no tfjs banner when the cpu backend first stores a tensor', async () => {
    const warn = vi.spyOn(console, 'warn');
    const log = vi.spyOn(console, 'log');
    const { backend } = await selectBackend('cpu');
    expect(backend).toBe('cpu');
    tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.scalar(1)).dataSync());
    expect([...warn.mock.calls, ...log.mock.calls].map((c) => c.join(' '))).toEqual([]);
  });
});
