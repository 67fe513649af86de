/** Duplicate units after training: exact copies (relative to each column's scale) and nothing else. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { duplicateUnitFraction } from '../../src/probe/symmetry';

/** A [rows, units] kernel from its columns. */
function kernelOf(columns: number[][]): tf.Variable {
  const rows = columns[0]!.length;
  const flat: number[] = [];
  for (let r = 0; r < rows; r++) for (const column of columns) flat.push(column[r]!);
  return tf.variable(tf.tensor2d(flat, [rows, columns.length]));
}

describe('duplicateUnitFraction', () => {
  it('counts units whose columns and biases are copies', () => {
    const a = [0.5, -0.25, 0.125];
    const kernel = kernelOf([a, [0.1, 0.2, 0.3], a, [0.3, 0.2, 0.1]]);
    expect(duplicateUnitFraction({ kernel, bias: null })).toBe(0.5);
    // The same columns with different biases are different units.
    expect(duplicateUnitFraction({ kernel, bias: tf.variable(tf.tensor1d([0, 0, 1, 0])) })).toBe(0);
  });

  it('a column and its multiple, or a near copy beyond the tolerance, are not copies', () => {
    const scaled = kernelOf([[0.5, -0.25, 0.125], [1, -0.5, 0.25]]);
    expect(duplicateUnitFraction({ kernel: scaled, bias: null })).toBe(0);
    const near = kernelOf([[0.5, -0.25, 0.125], [0.5, -0.25, 0.12501]]);
    expect(duplicateUnitFraction({ kernel: near, bias: null })).toBe(0);
  });

  it('entries swapped between rows are not copies (the fingerprint sums agree, the columns do not)', () => {
    const swapped = kernelOf([[0.5, 0.25, 0.25, 0.5], [0.25, 0.5, 0.5, 0.25], [0.5, 0.25, 0.25, 0.5]]);
    expect(duplicateUnitFraction({ kernel: swapped, bias: null })).toBeCloseTo(2 / 3, 10);
  });

  it('in a kernel too tall to fingerprint whole, copies count and a difference in a row the fingerprint skips still tells units apart', () => {
    const rows = 3000;
    const column = (seed: number) => Array.from({ length: rows }, (_, r) => Math.sin(seed * 7.1 + r * 0.37));
    const base = column(1);
    const differsOnce = [...base];
    differsOnce[1] = base[1]! + 0.5;
    expect(duplicateUnitFraction({ kernel: kernelOf([base, column(2), [...base], column(3)]), bias: null })).toBe(0.5);
    expect(duplicateUnitFraction({ kernel: kernelOf([base, column(2), differsOnce, column(3)]), bias: null })).toBe(0);
  });

  it('in a kernel too tall to fingerprint whole, units zero on every sampled row but different elsewhere are not copies', () => {
    const rows = 3000;
    const onlyAt = (row: number, value: number) => Array.from({ length: rows }, (_, r) => (r === row ? value : 0));
    // Row 1 is not among the sampled rows (0, 11, 23, ...): the two units differ there only.
    const zero = onlyAt(0, 0);
    expect(duplicateUnitFraction({ kernel: kernelOf([onlyAt(1, 0.5), onlyAt(1, 0.25), zero, [...zero]]), bias: null })).toBe(0.5);
    expect(duplicateUnitFraction({ kernel: kernelOf([onlyAt(1, 0.5), onlyAt(1, 0.5), zero, [...zero]]), bias: null })).toBe(1);
  });

  it('all-zero units are copies of each other; a constant-initialized layer is all copies', () => {
    expect(duplicateUnitFraction({ kernel: tf.variable(tf.zeros([5, 3])), bias: null })).toBe(1);
    expect(duplicateUnitFraction({ kernel: tf.variable(tf.fill([1000, 64], 0.05)), bias: tf.variable(tf.zeros([64])) })).toBe(1);
  });

  it('diverged weights and single units are not judged', () => {
    expect(duplicateUnitFraction({ kernel: kernelOf([[Number.NaN, 1], [Number.NaN, 1]]), bias: null })).toBeNull();
    expect(duplicateUnitFraction({ kernel: kernelOf([[1, 2, 3]]), bias: null })).toBeNull();
    expect(duplicateUnitFraction({ kernel: null, bias: null })).toBeNull();
  });
});
