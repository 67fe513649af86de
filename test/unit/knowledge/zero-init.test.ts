/**
 * Normalization scales the code initializes (src/shared/knowledge/initializers.ts, affineMoments) and
 * the layers a zero scale shuts off at initialization (src/shared/gradient-flow.ts, zeroGatedLayers):
 * zero-initialized residual branches in PyTorch (nn.init.zeros_, torchvision's zero_init_residual) and
 * Keras (gamma_initializer='zeros'), each beside its twin at the default scale of one.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../../src/analysis/api';
import { zeroGatedLayers } from '../../../src/shared/gradient-flow';
import { affineMoments } from '../../../src/shared/knowledge/initializers';
import { modelPrediction, type PropagatedModel } from '../../../src/shared/knowledge/propagation';
import type { ModelIR } from '../../../src/shared/ir';
import { analyzeFixture } from '../project-helper';
import { defined } from '../../defined';

const FIXTURES = join(__dirname, '../../fixtures/zero-init');

async function model(file: string, name: string): Promise<ModelIR> {
  const models: FileResult['models'] = (await analyzeFixture(join(FIXTURES, file))).models;
  return defined(models.find((m) => m.name === name), `model ${name} in ${file}`);
}

function gatedNames(m: ModelIR): string[] {
  return [...zeroGatedLayers(m)].map((i) => m.layers[i]!.name);
}

function predicted(m: ModelIR): PropagatedModel {
  const p = modelPrediction(m);
  if (!p.ok) throw new Error(p.reason);
  return p;
}

function layer(m: ModelIR, name: string) {
  return defined(m.layers.find((l) => l.name === name), `layer ${name}`);
}

describe('zero-initialized normalization scales', () => {
  it('nn.init.zeros_ on each block\'s last BatchNorm: the branch convolutions get no gradient at initialization, the network is healthy', async () => {
    const net = await model('torch_zero_init_residual.py', 'Net');
    expect(affineMoments(layer(net, 'blocks.0.bn2'))).toEqual({ scaleMean: 0, scaleSecond: 0, shiftMean: 0, shiftSecond: 0 });
    expect(affineMoments(layer(net, 'blocks.0.bn1')).scaleSecond).toBe(1);
    const gated = gatedNames(net);
    expect(gated).toHaveLength(24);
    expect(gated.slice(0, 2)).toEqual(['blocks.0.conv1', 'blocks.0.conv2']);
    expect(gated).not.toContain('stem');
    expect(gated).not.toContain('fc');
    const p = predicted(net);
    // The branch outputs zero: the first block's sum is its input (the stem's ReLU) unchanged.
    expect(p.layers.find((l) => l.name === 'blocks.0.bn2')?.predictedStd).toBe(0);
    const firstAdd = defined(p.layers.find((l) => l.kind === 'add'), 'add');
    expect(firstAdd.predictedStd).toBeCloseTo(defined(p.layers.find((l) => l.name === 'activation'), 'stem activation').predictedStd, 9);
    // Gated layers show no gradient ratio; the flow is judged on the layers a gradient reaches.
    expect(p.layers.find((l) => l.name === 'blocks.0.conv1')?.log10GradRatio).toBeNull();
    expect(p.grade).toBe('healthy');
  });

  it('the twin at the default scale: nothing gated, the blocks add up', async () => {
    const net = await model('torch_residual_clean.py', 'Net');
    expect(gatedNames(net)).toEqual([]);
    const p = predicted(net);
    const firstAdd = defined(p.layers.find((l) => l.kind === 'add'), 'add');
    expect(firstAdd.predictedStd).toBeGreaterThan(defined(p.layers.find((l) => l.name === 'activation'), 'stem activation').predictedStd * 1.5);
    expect(p.layers.find((l) => l.name === 'blocks.0.conv1')?.log10GradRatio).not.toBeNull();
  });

  it("a loop over self.modules() that zeroes each Block's last BatchNorm (torchvision's code in user code) gates the blocks; with the flag off it does not", async () => {
    const net = await model('torch_zero_init_loop.py', 'Net');
    expect(affineMoments(layer(net, 'blocks.0.bn2')).scaleSecond).toBe(0);
    expect(affineMoments(layer(net, 'blocks.0.bn1')).scaleSecond).toBe(1);
    // The first loop's isinstance(m, nn.Conv2d) still reaches the layers below the blocks.
    expect(layer(net, 'blocks.0.conv1').kernelInit?.name).toBe('kaiming_normal');
    expect(gatedNames(net)).toHaveLength(24);
    expect(predicted(net).grade).toBe('healthy');
    const off = await model('torch_zero_init_loop_off.py', 'Net');
    expect(affineMoments(layer(off, 'blocks.0.bn2')).scaleSecond).toBe(1);
    expect(gatedNames(off)).toEqual([]);
  });

  it("Keras gamma_initializer='zeros' gates the block's convolutions; the default gamma does not", async () => {
    const zeros = await model('keras_gamma_zeros.py', 'model');
    expect(affineMoments(layer(zeros, 'batchnorm_1')).scaleSecond).toBe(0);
    expect(gatedNames(zeros)).toEqual(['conv2d', 'conv2d_1']);
    const plain = await model('keras_gamma_default.py', 'model');
    expect(gatedNames(plain)).toEqual([]);
    expect(predicted(plain).log10FirstLastRatio).not.toBeNull();
  });

  it("torchvision's zero_init_residual=True zeroes each bottleneck's last BatchNorm: ResNet-152 no longer reads exploding", async () => {
    const zeroInit = await model('torchvision_zero_init.py', 'zero_init');
    const plain = await model('torchvision_zero_init.py', 'default');
    expect(layer(zeroInit, 'layer1.0.bn3').kernelInit?.name).toBe('constant');
    expect(layer(plain, 'layer1.0.bn3').kernelInit?.name).toBe('ones');
    expect(gatedNames(zeroInit)).toContain('layer3.35.conv3');
    expect(gatedNames(zeroInit)).not.toContain('layer3.0.downsample.0');
    expect(predicted(zeroInit).grade).toBe('healthy');
    expect(predicted(plain).grade).toBe('exploding');
  });
});
