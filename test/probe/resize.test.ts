/**
 * The probe's interpolation (src/probe/resize.ts) against PyTorch 1.13's F.interpolate on small inputs
 * (values computed once with /usr/bin/python3 and written here; the test never runs Python), and the
 * shapes the analyzer reads from nn.Upsample spellings.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { interpolate } from '../../src/probe/resize';
import { layerOutput } from '../../src/shared/shapes';
import { extractTorchFrom } from '../unit/extract/torch-fixture';
import type { LayerIR } from '../../src/shared/ir';

/** A channels-last run of `interpolate` on one example with one channel. */
function resize(values: number[], spatial: number[], out: number[], how: { mode: 'nearest' | 'bilinear'; alignCorners: boolean }, factors: number[] | null): number[] {
  return tf.tidy(() => Array.from(interpolate(tf.tensor(values, [1, ...spatial, 1]), out, how, factors).dataSync()));
}
const close = (a: number[], b: number[]) => {
  expect(a).toHaveLength(b.length);
  a.forEach((v, i) => { expect(v).toBeCloseTo(b[i]!, 5); });
};

describe('interpolation as PyTorch computes it', () => {
  const row = [1, 4, 2];
  it('linear, align_corners True and False, by a factor and to a size', () => {
    close(resize(row, [3], [6], { mode: 'bilinear', alignCorners: true }, [2]), [1, 2.2, 3.4, 3.6, 2.8, 2]);
    close(resize(row, [3], [6], { mode: 'bilinear', alignCorners: false }, [2]), [1, 1.75, 3.25, 3.5, 2.5, 2]);
    close(resize(row, [3], [5], { mode: 'bilinear', alignCorners: false }, null), [1, 2.2, 4, 2.8, 2]);
  });

  it('nearest by a non-integer factor and to a size that is no multiple', () => {
    close(resize(row, [3], [4], { mode: 'nearest', alignCorners: false }, [1.5]), [1, 1, 4, 2]);
    close(resize(row, [3], [7], { mode: 'nearest', alignCorners: false }, null), [1, 1, 1, 4, 4, 2, 2]);
  });

  it('bilinear on both axes of an image', () => {
    const image = [0, 1, 2, 3, 4, 5];
    close(resize(image, [2, 3], [4, 6], { mode: 'bilinear', alignCorners: true }, [2, 2]), [0, 0.4, 0.8, 1.2, 1.6, 2, 1, 1.4, 1.8, 2.2, 2.6, 3, 2, 2.4, 2.8, 3.2, 3.6, 4, 3, 3.4, 3.8, 4.2, 4.6, 5]);
    close(resize(image, [2, 3], [4, 6], { mode: 'bilinear', alignCorners: false }, [2, 2]), [0, 0.25, 0.75, 1.25, 1.75, 2, 0.75, 1, 1.5, 2, 2.5, 2.75, 2.25, 2.5, 3, 3.5, 4, 4.25, 3, 3.25, 3.75, 4.25, 4.75, 5]);
  });
});

const outputShape = (layer: LayerIR, shape: number[]) => layerOutput(layer, [{ shape, rankKnown: true }], { framework: 'torch', layout: 'channels_first', honourDataFormat: true, nextKind: null }).shape;

describe('nn.Upsample as the analyzer reads it', () => {
  const layerOf = async (call: string) => {
    const layer = (await extractTorchFrom(`import torch.nn as nn\nnet = nn.Sequential(nn.Conv2d(3, 4, 3), ${call})\n`))[0]?.layers[1];
    if (!layer) throw new Error(`no layer for ${call}`);
    return layer;
  };
  it('reads mode, align_corners, scale_factor and size; the output shape follows', async () => {
    const bilinear = await layerOf("nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)");
    expect(bilinear).toMatchObject({ kind: 'reshape', reshape: { op: 'upsampling', factors: [2], mode: 'bilinear', alignCorners: true } });
    expect(outputShape(bilinear, [4, 5, 7])).toEqual([4, 10, 14]);
    const sized = await layerOf('nn.Upsample(size=(9, 11))');
    expect(sized).toMatchObject({ reshape: { op: 'upsampling', size: [9, 11], mode: 'nearest' } });
    expect(outputShape(sized, [4, 5, 7])).toEqual([4, 9, 11]);
    expect(outputShape(await layerOf('nn.Upsample(scale_factor=1.5)'), [4, 5, 7])).toEqual([4, 7, 10]);
    expect(await layerOf('nn.UpsamplingBilinear2d(scale_factor=2)')).toMatchObject({ reshape: { mode: 'bilinear', alignCorners: true } });
  });

  it('a mode the probe does not model, or a size that is not a constant, stays shape-only (not modelled)', async () => {
    expect(await layerOf("nn.Upsample(scale_factor=2, mode='bicubic')")).toMatchObject({ reshape: { op: 'other' } });
    expect(await layerOf('nn.Upsample(size=side)')).toMatchObject({ reshape: { op: 'other' } });
  });
});
