/**
 * Keras builders read per call with the call's actual arguments (issue 8 §2): a static method of a
 * builder class (`NetBuilder.build(block_fn, ...)`) is read once per call of it, and a function of the
 * file passed as an argument (`block_fn`) is the block it builds, so its layers reach the rules.
 */
import { describe, expect, it } from 'vitest';
import { Project } from '../../../src/analysis/project';
import type { FileResult } from '../../../src/analysis/api';

async function analyze(text: string): Promise<FileResult> {
  const project = await Project.create();
  try {
    project.setFile('/ws/resnet.py', text);
    return project.analyzeFile('/ws/resnet.py');
  } finally {
    project.dispose();
  }
}

const builder = (blocks: string) => `
from keras.layers import Input, Conv2D, BatchNormalization, Activation, Dense, Flatten
from keras.models import Model


def plain_block(filters):
    def f(x):
        y = Conv2D(filters, (3, 3), padding="same")(x)
        y = BatchNormalization()(y)
        return Activation("relu")(y)
    return f


def biasless_block(filters):
    def f(x):
        y = Conv2D(filters, (3, 3), padding="same", use_bias=False)(x)
        y = BatchNormalization()(y)
        return Activation("relu")(y)
    return f


class NetBuilder(object):
    @staticmethod
    def build(block_fn, repetitions):
        inputs = Input(shape=(32, 32, 3))
        x = inputs
        filters = 16
        for r in repetitions:
            for _ in range(r):
                x = block_fn(filters)(x)
            filters *= 2
        outputs = Dense(10, activation="softmax")(Flatten()(x))
        return Model(inputs, outputs)

${blocks}
`;

describe('a builder class whose static method takes the block function', () => {
  it('reads the block passed at each call: its conv -> BatchNorm pairs are findings', async () => {
    const result = await analyze(
      builder(`
    @staticmethod
    def small():
        return NetBuilder.build(plain_block, [1, 1])
`),
    );
    const convs = result.models.flatMap((m) => m.layers).filter((l) => l.kind === 'conv2d');
    expect(convs.map((l) => l.units)).toEqual([16, 32]);
    const gl302 = result.findings.filter((f) => f.code === 'GL302').map((f) => f.range.start.line + 1);
    expect(gl302).toEqual([8]);
  });

  it('a block without bias before BatchNorm is no finding (the same builder, the clean block passed)', async () => {
    const result = await analyze(
      builder(`
    @staticmethod
    def small():
        return NetBuilder.build(biasless_block, [1, 1])
`),
    );
    const convs = result.models.flatMap((m) => m.layers).filter((l) => l.kind === 'conv2d');
    expect(convs.map((l) => [l.units, l.useBias])).toEqual([
      [16, false],
      [32, false],
    ]);
    expect(result.findings.filter((f) => f.code === 'GL302')).toEqual([]);
  });

  it('two calls with different blocks are two models, each named after its call', async () => {
    const result = await analyze(
      builder(`
    @staticmethod
    def plain():
        return NetBuilder.build(plain_block, [1])

    @staticmethod
    def biasless():
        return NetBuilder.build(biasless_block, [1])
`),
    );
    const built = result.models.filter((m) => m.instance);
    expect(built.map((m) => m.name).sort()).toEqual(['NetBuilder.build(biasless_block, [1])', 'NetBuilder.build(plain_block, [1])']);
    expect(result.findings.filter((f) => f.code === 'GL302')).toHaveLength(1);
  });
});
