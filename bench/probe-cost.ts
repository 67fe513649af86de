/**
 * The probe's step-time estimate (src/probe/cost.ts) against the measured step, on the wasm backend,
 * for models of every cost kind: convolutions (wide, few input channels, strided), Dense stacks, a wide
 * Flatten head, recurrent layers. Run by bench/probe-cost.mjs; prints one line per case. CPU time of
 * this process, so a shared machine's load does not colour it; the steady step is the faster of steps
 * 3 and 4, the first includes building the model.
 */
import { estimatedStepMs } from '../src/probe/cost';
import { runProbe } from '../src/probe/run';
import { planModel } from '../src/probe/plan';
import { probeOptions } from '../src/shared/probe';
import { keras, torch } from '../test/probe/ir-builder';
import type { ModelIR } from '../src/shared/ir';

const conv = (units: number, k = 3, extra = {}) => ({ kind: 'conv2d' as const, units, kernelSize: [k, k], activation: 'relu' as const, detail: { conv: { padding: 'same' as const, ...extra } } });
const cases: [string, () => ModelIR, number][] = [
  ['conv 64->64 32x32 x4', () => keras().input([32, 32, 64]).layer(conv(64)).layer(conv(64)).layer(conv(64)).layer(conv(64)).layer({ kind: 'global-pool' }).dense(10, 'softmax').build(), 8],
  ['conv 3->64 64x64', () => keras().input([64, 64, 3]).layer(conv(64)).layer({ kind: 'global-pool' }).dense(10, 'softmax').build(), 8],
  ['conv 128->128 16x16 s2', () => keras().input([16, 16, 128]).layer(conv(128, 3, { strides: [2] })).layer({ kind: 'global-pool' }).dense(10, 'softmax').build(), 8],
  ['cifar 4conv bn', () => keras().input([32, 32, 3]).layer(conv(32)).layer({ kind: 'batchnorm' }).layer(conv(32)).layer({ kind: 'maxpool', kernelSize: [2, 2] }).layer(conv(64)).layer({ kind: 'batchnorm' }).layer(conv(64)).layer({ kind: 'maxpool', kernelSize: [2, 2] }).layer({ kind: 'flatten' }).denseStack(5, 256, 'relu').dense(10, 'softmax').build(), 32],
  ['ft', () => keras().input([60, 90, 3]).layer({ kind: 'conv2d', units: 128, kernelSize: [3, 3], activation: 'relu' }).layer({ kind: 'conv2d', units: 64, kernelSize: [3, 3], activation: 'relu' }).layer({ kind: 'maxpool', kernelSize: [2, 2] }).layer({ kind: 'flatten' }).dense(128, 'relu').dense(1, 'sigmoid').build(), 2],
  // The shapes of the accuracy sample's slowest probes: strided 4x4 GAN discriminators, upsampling generators, residual blocks.
  ['gan disc 64x64 s2 x4', () => {
    let b = torch().input([3, 64, 64]);
    for (const [i, o] of [[3, 64], [64, 128], [128, 256], [256, 512]] as const) b = b.layer({ kind: 'conv2d', units: o, inFeatures: i, kernelSize: [4], detail: { conv: { strides: [2], padding: [1] } } }).layer({ kind: 'batchnorm' }).layer({ kind: 'activation', activation: 'leaky_relu' });
    return b.layer({ kind: 'conv2d', units: 1, inFeatures: 512, kernelSize: [3], detail: { conv: { padding: [1] } } }).build();
  }, 8],
  ['gan gen convT 4x4 s2 x3', () => {
    let b = keras().input([4, 4, 512]);
    for (const o of [256, 128, 64]) b = b.layer({ kind: 'conv-transpose', units: o, kernelSize: [4, 4], detail: { conv: { strides: [2], padding: 'same' } } }).layer({ kind: 'batchnorm' }).layer({ kind: 'activation', activation: 'relu' });
    return b.layer(conv(3)).build();
  }, 8],
  ['res block 128 32x32', () =>
    torch().input([128, 32, 32]).layer({ kind: 'conv2d', units: 128, inFeatures: 128, kernelSize: [3], detail: { conv: { padding: [1] } } }).layer({ kind: 'batchnorm' }).layer({ kind: 'activation', activation: 'prelu' }).layer({ kind: 'conv2d', units: 128, inFeatures: 128, kernelSize: [3], detail: { conv: { padding: [1] } } }).layer({ kind: 'batchnorm' }).build(), 8],
  // A ViT encoder block (64 patches of 256 features, 8 heads): projections, 64x64 scores per head, a feed-forward pair.
  ['attention 64x256 h8 + ff', () =>
    torch()
      .asGraph()
      .input([64, 256])
      .layer({ kind: 'input', name: 'x' })
      .layer({ kind: 'attention', name: 'attn', units: 256, inFeatures: 256, detail: { attention: { heads: 8 } }, inputs: ['x'] })
      .layer({ kind: 'add', name: 'res', inputs: ['x', 'attn'] })
      .layer({ kind: 'layernorm', name: 'ln', inputs: ['res'] })
      .layer({ kind: 'dense', name: 'up', units: 512, inFeatures: 256, inputs: ['ln'] })
      .layer({ kind: 'activation', name: 'relu', activation: 'relu', inputs: ['up'] })
      .layer({ kind: 'dense', name: 'down', units: 256, inFeatures: 512, inputs: ['relu'] })
      .build(), 16],
  ['dense 1024 x4', () => keras().input([1024]).denseStack(4, 1024, 'relu').dense(10, 'softmax').build(), 64],
  ['dense 20x64 sigmoid', () => keras().input([64]).denseStack(20, 64, 'sigmoid').dense(10, 'softmax').build(), 64],
  ['dense 5M flatten', () => keras().input([40000]).dense(128, 'relu').dense(1, 'sigmoid').build(), 8],
  ['lstm 256 x50', () => keras().input([50, 64]).layer({ kind: 'lstm', units: 256 }).dense(10, 'softmax').build(), 32],
  ['lstm 64 x200', () => keras().input([200, 32]).layer({ kind: 'lstm', units: 64 }).dense(10, 'softmax').build(), 32],
  ['lstm 1024 x20', () => keras().input([20, 32]).layer({ kind: 'lstm', units: 1024 }).dense(10, 'softmax').build(), 8],
  ['gru 128 x100', () => keras().input([100, 32]).layer({ kind: 'gru', units: 128 }).dense(10, 'softmax').build(), 32],
];
async function main() {
  const only = process.argv[2] ?? '';
  for (const [name, model, batch] of cases) {
    if (!name.includes(only)) continue;
    // No step-time budget: the model runs at the batch and size the estimate is for.
    const options = probeOptions({ backend: 'wasm', steps: 4, batchSize: batch, seed: 1, budget: { maxStepMs: Number.POSITIVE_INFINITY } });
    const plan = planModel(model(), options);
    const cpu: number[] = [];
    let builtCpu = 0;
    const now = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    await runProbe(model(), options, {
      onProgress: (e) => {
        if (e.phase === 'build') builtCpu = now();
        if (e.phase === 'train') cpu.push(now());
      },
    });
    const [first, second, third, fourth] = cpu;
    if (fourth === undefined || third === undefined || second === undefined || first === undefined) {
      console.log(`${name}: the probe did not run 4 steps`);
      continue;
    }
    const steady = Math.min(third - second, fourth - third);
    const estimate = estimatedStepMs(plan, batch);
    console.log(`${name.padEnd(28)} batch ${String(batch).padStart(3)}  estimated ${estimate.toFixed(0).padStart(5)} ms  measured ${steady.toFixed(0).padStart(5)} ms (x${(steady / estimate).toFixed(2)})  first step with build ${(first - builtCpu).toFixed(0).padStart(5)} ms`);
  }
}
void main();
