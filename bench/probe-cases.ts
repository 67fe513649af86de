/**
 * Probe benchmark cases, run in a fresh process per backend by bench/probe.mjs (bundled by esbuild).
 * Prints one JSON line per case: per-step time (median after the first step), total time, backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { mainThreadCpuMs } from './thread-cpu.mjs';
import { StandbyProbeWorker, startProbe, type PreparedWorker } from '../src/probe/client';
import { runProbe } from '../src/probe/run';
import { applyProbeV8Flags } from '../src/probe/v8-flags';
import { probeOptions, type BackendChoice } from '../src/shared/probe';
import type { ModelIR } from '../src/shared/ir';
import { convBlocksNet, keras, torch } from '../test/probe/ir-builder';

export interface BenchCase {
  name: string;
  model: () => ModelIR;
  batch: number;
  steps: number;
  /** Target for "first verdict", ms from the request (issue 4). */
  targetMs: number;
  /** Backends to skip (the cpu backend takes minutes on a CIFAR CNN). */
  skip?: BackendChoice[];
}

export const cases: BenchCase[] = [
  { name: '20x Dense(64) sigmoid MLP, batch 64', model: () => keras().input([64]).denseStack(20, 64, 'sigmoid').dense(10, 'softmax').build(), batch: 64, steps: 30, targetMs: 1500 },
  { name: '20x Dense(256) ReLU MLP, batch 64', model: () => keras().input([256]).denseStack(20, 256, 'relu', { kernelInit: undefined }).dense(10, 'softmax').build(), batch: 64, steps: 30, targetMs: 1500 },
  {
    name: 'small CNN 32x32x3, batch 32',
    model: () =>
      keras()
        .input([32, 32, 3])
        .layer({ kind: 'conv2d', units: 32, kernelSize: [3, 3], activation: 'relu', detail: { conv: { padding: 'same' } } })
        .layer({ kind: 'maxpool', kernelSize: [2, 2] })
        .layer({ kind: 'conv2d', units: 64, kernelSize: [3, 3], activation: 'relu', detail: { conv: { padding: 'same' } } })
        .layer({ kind: 'maxpool', kernelSize: [2, 2] })
        .layer({ kind: 'flatten' })
        .dense(128, 'relu')
        .dense(10, 'softmax')
        .build(),
    batch: 32,
    steps: 30,
    targetMs: 10000,
  },
  {
    // Issue 10's CNN; bench/torch-reference.py builds the same network in PyTorch.
    name: '4-conv CIFAR CNN (BatchNorm, 6-layer head), batch 32',
    model: () => convBlocksNet([32, 32, 3], [[32, 32], [64, 64]], 5, 256),
    batch: 32,
    steps: 12,
    targetMs: 10000,
    skip: ['cpu'],
  },
  {
    name: '2-layer LSTM(64) over 50 steps, batch 32',
    model: () => torch().input([50, 32]).layer({ kind: 'lstm', units: 64, inFeatures: 32, detail: { recurrent: { numLayers: 2 } } }).layer({ kind: 'dense', units: 1, inFeatures: 64 }).build(),
    batch: 32,
    steps: 30,
    targetMs: 10000,
  },
];

/** Per step, the CPU time of the whole process and of its main thread (null where not known). */
class CpuClock {
  private readonly total: number[] = [];
  private readonly main: (number | null)[] = [];

  stamp(): void {
    const cpu = process.cpuUsage();
    this.total.push((cpu.user + cpu.system) / 1000);
    this.main.push(mainThreadCpuMs());
  }

  /** Medians over the steps after the first: all threads, the main thread, the other threads. */
  perStep(): { cpu: number; main: number | null; others: number | null } {
    const deltas = (values: number[]) => values.slice(1).map((t, i) => t - values[i]!);
    const total = deltas(this.total);
    if (this.main.some((m) => m === null)) return { cpu: median(total), main: null, others: null };
    const main = deltas(this.main as number[]);
    return { cpu: median(total), main: median(main), others: median(total.map((t, i) => t - main[i]!)) };
  }
}

/** A case's CPU numbers per step, as the JSON line carries them. */
function threadsOf(clock: CpuClock): { cpuMsPerStep: number; mainCpuMsPerStep: number | null; otherThreadsCpuMsPerStep: number | null } {
  const { cpu, main, others } = clock.perStep();
  return { cpuMsPerStep: cpu, mainCpuMsPerStep: main, otherThreadsCpuMsPerStep: others };
}

/** The median of each number over rounds (null when a round did not know it). */
function medianOfRounds(rounds: ReturnType<typeof threadsOf>[]): ReturnType<typeof threadsOf> {
  const of = (values: (number | null)[]) => (values.every((v): v is number => v !== null) ? median(values) : null);
  return { cpuMsPerStep: median(rounds.map((r) => r.cpuMsPerStep)), mainCpuMsPerStep: of(rounds.map((r) => r.mainCpuMsPerStep)), otherThreadsCpuMsPerStep: of(rounds.map((r) => r.otherThreadsCpuMsPerStep)) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * The naive loop the "~20 ms on wasm" refers to, measured in the same process and conditions:
 * 20 sigmoid Dense(64) layers, batch 64, tf.variableGrads, one tf.norm per weight, SGD.applyGradients,
 * one dataSync per step. Its time next to the probe's is a comparison that survives machine load.
 */
function naiveBaseline(steps: number): number {
  const width = 64;
  const weights: tf.Variable[] = [];
  for (let i = 0; i < 20; i++) weights.push(tf.variable(tf.randomUniform([width, width], -0.3, 0.3)), tf.variable(tf.zeros([width])));
  const x = tf.randomNormal([64, width]);
  const y = tf.randomNormal([64, width]);
  const optimizer = tf.train.sgd(0.01);
  const stamps: number[] = [];
  for (let step = 0; step <= steps; step++) {
    const norms = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        let h: tf.Tensor = x;
        for (let i = 0; i < 20; i++) h = tf.sigmoid(tf.add(tf.matMul(h, weights[2 * i]!), weights[2 * i + 1]!));
        return tf.losses.meanSquaredError<tf.Tensor, tf.Scalar>(y, h);
      }, weights);
      const perWeight = weights.map((w) => tf.norm(grads[w.name]!));
      optimizer.applyGradients(grads);
      return tf.stack([value, ...perWeight]);
    });
    norms.dataSync();
    norms.dispose();
    stamps.push(performance.now());
  }
  tf.dispose([x, y, ...weights]);
  optimizer.dispose();
  return median(stamps.slice(1).map((t, i) => t - stamps[i]!));
}

/**
 * Kernels run per training step (load-independent cost measure): the difference between profiled runs
 * of 4 and 8 steps, over 4. A run's own kernels (building, the symmetry check at its end) are not a
 * step's: divided among 4 steps they made the 20x Dense(64) MLP's 117 kernels a step read 175.
 */
async function kernelsPerStep(c: BenchCase, backend: BackendChoice): Promise<number> {
  const kernelsIn = async (steps: number) => {
    const profile = await tf.profile(async () => {
      await runProbe(c.model(), probeOptions({ backend, steps, batchSize: c.batch, seed: 1 }));
      return [];
    });
    return profile.kernels.length;
  };
  return Math.round(((await kernelsIn(8)) - (await kernelsIn(4))) / 4);
}

async function main(): Promise<void> {
  // The V8 settings the probe worker runs with (the CLI and the extension probe through it).
  applyProbeV8Flags();
  const backend = (process.argv[2] ?? 'auto') as BackendChoice;
  const only = process.argv[3] ?? '';
  const workerPath = process.env.PROBE_WORKER ?? '';
  for (const c of cases.filter((x) => x.name.includes(only) && !x.skip?.includes(backend))) {
    const stamps: number[] = [];
    const cpu = new CpuClock();
    const started = performance.now();
    let firstStepAt = 0;
    let firstVerdictMs: number | null = null;
    const outcome = await runProbe(c.model(), probeOptions({ backend, steps: c.steps, batchSize: c.batch, seed: 1 }), {
      onProgress: (e) => {
        if (e.phase === 'train') {
          stamps.push(performance.now());
          cpu.stamp();
        }
        if (e.phase === 'build') firstStepAt = performance.now();
        if (e.verdicts && firstVerdictMs === null) firstVerdictMs = performance.now() - started;
      },
    });
    const totalMs = performance.now() - started;
    const deltas = stamps.slice(1).map((t, i) => t - stamps[i]!);
    if (!outcome.ok) {
      process.stdout.write(`${JSON.stringify({ case: c.name, error: outcome.error.message })}\n`);
      continue;
    }
    // The whole request as the CLI and the extension's first probe make it: fork the worker, load tfjs,
    // probe; then as the extension's later probes do, on the standby worker it started after the last one.
    let workerMs: number | null = null;
    let workerFirstVerdictMs: number | null = null;
    let standbyMs: number | null = null;
    let standbyFirstVerdictMs: number | null = null;
    if (workerPath) {
      const viaWorker = async (worker: PreparedWorker | undefined) => {
        const t0 = performance.now();
        let firstVerdict: number | null = null;
        const done = await startProbe(c.model(), probeOptions({ backend, steps: c.steps, batchSize: c.batch, seed: 1 }), null, {
          workerPath,
          ...(worker ? { worker } : {}),
          onProgress: (m) => {
            if (m.verdicts && firstVerdict === null) firstVerdict = performance.now() - t0;
          },
        }).result;
        return { ms: done.ok ? performance.now() - t0 : null, firstVerdict };
      };
      ({ ms: workerMs, firstVerdict: workerFirstVerdictMs } = await viaWorker(undefined));
      // The editor starts it after probing a model, and rehearses that model in it.
      const standby = new StandbyProbeWorker({ workerPath });
      standby.prepare(backend, true, { model: c.model(), options: probeOptions({ backend, steps: c.steps, batchSize: c.batch, seed: 1 }) });
      // The standby worker loads while the user reads the last result: a second here.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      ({ ms: standbyMs, firstVerdict: standbyFirstVerdictMs } = await viaWorker(standby.take(backend, true)));
      standby.dispose();
    }
    const line = {
      case: c.name,
      backend: outcome.result.backend,
      // The threads the wasm backend's kernels ran on (src/probe/wasm-threads.ts).
      threads: outcome.result.backend === 'wasm' ? getThreadsCount() : null,
      msPerStep: median(deltas),
      ...threadsOf(cpu),
      firstStepMs: stamps[0]! - firstStepAt,
      totalMs,
      workerMs,
      firstVerdictMs,
      workerFirstVerdictMs,
      standbyMs,
      standbyFirstVerdictMs,
      kernelsPerStep: await kernelsPerStep(c, backend),
      targetMs: c.targetMs,
      verdicts: outcome.result.verdicts.map((v) => v.kind),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  if (cases[0]!.name.includes(only)) {
    // Interleaved rounds, so that the machine's load hits both loops alike.
    const probeRounds: number[] = [];
    const probeCpuRounds: ReturnType<typeof threadsOf>[] = [];
    const naiveRounds: number[] = [];
    for (let round = 0; round < 5; round++) {
      const stamps: number[] = [];
      const cpu = new CpuClock();
      await runProbe(cases[0]!.model(), probeOptions({ backend, steps: 11, batchSize: 64, seed: round }), {
        onProgress: (e) => {
          if (e.phase === 'train') {
            stamps.push(performance.now());
            cpu.stamp();
          }
        },
      });
      probeRounds.push(median(stamps.slice(1).map((t, i) => t - stamps[i]!)));
      probeCpuRounds.push(threadsOf(cpu));
      naiveRounds.push(naiveBaseline(10));
    }
    // The probe's rounds run in a process whose JIT has compiled tfjs already (the first case's run
    // has not: its steps include that work), as the PyTorch reference's steps after its warm-up.
    const line = { baseline: 'naive tfjs loop, 20x Dense(64) sigmoid, batch 64', case: cases[0]!.name, backend: tf.getBackend(), msPerStep: median(naiveRounds), probeMsPerStep: median(probeRounds), probe: medianOfRounds(probeCpuRounds) };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

void main();
