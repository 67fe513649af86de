/**
 * A small seeded random source (mulberry32; normals by the polar method). Every random number of a probe run comes from
 * here or from a tfjs op given a seed derived from here, so the same seed gives the same numbers on every
 * backend.
 */
const MULBERRY_INCREMENT = 0x6d2b79f5;

/** mulberry32's output for a state: uniform in [0, 1). */
function mix(state: number): number {
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export class Rng {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + MULBERRY_INCREMENT) >>> 0;
    return mix(this.state);
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Standard normal. */
  normal(): number {
    return this.normalInto(new Float64Array(1))[0]!;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A fresh 31-bit seed for a tfjs op or a child generator. */
  seed(): number {
    return Math.floor(this.next() * 2147483647);
  }

  /**
   * n draws of uniform(low, high): the same numbers as n calls, in one loop over a local state (a
   * Flatten into Dense draws tens of millions; a call per draw took seconds).
   */
  uniformArray(n: number, low: number, high: number): Float32Array {
    const out = new Float32Array(n);
    const span = high - low;
    let state = this.state;
    for (let i = 0; i < n; i++) {
      state = (state + MULBERRY_INCREMENT) >>> 0;
      out[i] = low + span * mix(state);
    }
    this.state = state;
    return out;
  }

  /**
   * Fills `out` with draws of mean + std * normal(), computed in double precision: the same numbers as
   * that many calls, in one loop over a local state (a ResNet's He-normal kernels hold tens of
   * millions of weights; a call per draw took seconds).
   */
  normalInto<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    const n = out.length;
    let i = 0;
    if (n > 0 && this.spare !== null) {
      out[i++] = mean + std * this.spare;
      this.spare = null;
    }
    let state = this.state;
    while (i < n) {
      // Marsaglia's polar method: a point uniform in the unit disc gives two independent normals
      // with one logarithm and no trigonometry.
      let u: number;
      let v: number;
      let s: number;
      do {
        state = (state + MULBERRY_INCREMENT) >>> 0;
        u = 2 * mix(state) - 1;
        state = (state + MULBERRY_INCREMENT) >>> 0;
        v = 2 * mix(state) - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const scale = Math.sqrt((-2 * Math.log(s)) / s);
      out[i++] = mean + std * u * scale;
      if (i < n) out[i++] = mean + std * v * scale;
      else this.spare = v * scale;
    }
    this.state = state;
    return out;
  }

  fill(n: number, draw: () => number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = draw();
    return out;
  }
}
