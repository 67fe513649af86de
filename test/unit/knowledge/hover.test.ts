import { describe, expect, it } from 'vitest';
import type { InitializerIR } from '../../../src/shared/ir';
import { describeActivationHover, describeInitializerHover, describeLayerHover } from '../../../src/shared/knowledge';
import { act, buildModel, dense, layerOf } from '../rules/ir-builder';
import { defined } from '../../defined';

const keras = (name: InitializerIR['name'], params: Record<string, number> = {}): InitializerIR => ({
  name, params, options: {}, spelling: `'${name}'`, range: { start: { line: 1, character: 30 }, end: { line: 1, character: 41 } }, explicit: true, framework: 'keras',
});

describe('describeInitializerHover', () => {
  it("shows he_normal's formula, both frameworks and this layer's numbers, and confirms a relu layer", () => {
    const model = buildModel({ layers: [dense(256, { activation: 'relu', kernelInit: keras('he_normal'), fanIn: 784, fanOut: 256 }), dense(10, { activation: 'softmax', fanIn: 256, fanOut: 10 })] });
    const layer = model.layers[0]!;
    const md = describeInitializerHover(layer, defined(layer.kernelInit), model);
    expect(md).toContain('Var(W) = 2 / fan_in');
    expect(md).toContain('Keras vs PyTorch');
    expect(md).toContain('fan_in = 784, fan_out = 256');
    expect(md).toContain('effective std 0.05051');
    expect(md).toContain('Matches');
    expect(md).toContain('He et al. 2015');
  });

  it('says what to use instead when He meets tanh', () => {
    const model = buildModel({ layers: [dense(64, { activation: 'tanh', kernelInit: keras('he_normal'), fanIn: 100, fanOut: 64 }), dense(1, { fanIn: 64, fanOut: 1 })] });
    const layer = model.layers[0]!;
    const md = describeInitializerHover(layer, defined(layer.kernelInit), model);
    expect(md).toContain('⚠️');
    expect(md).toContain("`'glorot_uniform'`");
  });

  it('explains the PyTorch default on nn.Linear(784, 256) with its bound 1/sqrt(784)', () => {
    const model = buildModel({
      framework: 'torch',
      layers: [dense(256, { className: 'nn.Linear', inFeatures: 784, fanIn: 784, fanOut: 256 }), act('relu', { className: 'nn.ReLU' }), dense(10, { className: 'nn.Linear', fanIn: 256, fanOut: 10 })],
    });
    const layer = model.layers[0]!;
    const md = describeInitializerHover(layer, defined(layer.kernelInit), model);
    expect(md).toContain('PyTorch default');
    expect(md).toContain('±0.03571');
    expect(md).toContain('applied by `nn.ReLU`');
    expect(md).toContain("kaiming_normal_(w, nonlinearity='relu')");
  });

  it('flags an oversized RandomNormal with both numbers', () => {
    const model = buildModel({ layers: [dense(256, { activation: 'relu', kernelInit: keras('random_normal', { mean: 0, stddev: 1 }), fanIn: 784, fanOut: 256 }), dense(10, { fanIn: 256, fanOut: 10 })] });
    const layer = model.layers[0]!;
    const md = describeInitializerHover(layer, defined(layer.kernelInit), model);
    expect(md).toContain('normal std = 1');
    expect(md).toContain('0.05051');
    expect(md).toContain('19.8×');
  });

  it('explains a constant kernel instead of quoting a 0x ratio', () => {
    const model = buildModel({ layers: [dense(64, { activation: 'relu', kernelInit: keras('zeros'), fanIn: 32, fanOut: 64 }), dense(1, { fanIn: 64, fanOut: 1 })] });
    const layer = model.layers[0]!;
    const md = describeInitializerHover(layer, defined(layer.kernelInit), model);
    expect(md).toContain('Every weight starts equal');
    expect(md).toContain("use `'he_normal'`");
    expect(md).not.toContain('0×');
  });

  it('does not warn about ones on a normalization weight (gamma), but still does on a Linear weight', () => {
    for (const kind of ['batchnorm', 'layernorm', 'groupnorm'] as const) {
      for (const init of [keras('ones'), { ...keras('constant', { value: 1 }), spelling: 'nn.init.constant_(w, 1)', framework: 'torch' as const }]) {
        const model = buildModel({ framework: 'torch', layers: [dense(64, { fanIn: 32, fanOut: 64 }), layerOf(kind, { kernelInit: init })] });
        const layer = model.layers[1]!;
        const md = describeInitializerHover(layer, defined(layer.kernelInit), model);
        expect(md, kind).not.toContain('⚠️');
        expect(md, kind).not.toContain('Every weight starts equal');
        expect(md, kind).toContain('γ = 1');
      }
    }
    const linear = buildModel({ framework: 'torch', layers: [dense(64, { className: 'nn.Linear', kernelInit: { ...keras('ones'), spelling: 'nn.init.ones_', framework: 'torch' }, fanIn: 32, fanOut: 64 }), act('relu'), dense(1, { fanIn: 64, fanOut: 1 })] });
    const md = describeInitializerHover(linear.layers[0]!, defined(linear.layers[0]!.kernelInit), linear);
    expect(md).toContain('⚠️');
    expect(md).toContain('Every weight starts equal');
  });

  it('does not judge what it cannot know', () => {
    const model = buildModel({ layers: [dense(256, { activation: 'relu', kernelInit: keras('he_normal') })] });
    const layer = model.layers[0]!;
    const md = describeInitializerHover(layer, defined(layer.kernelInit), model);
    expect(md).toContain('fan_in = unknown');
    expect(md).toContain('not known statically');
    expect(md).not.toContain('⚠️');
  });

  it('keeps text from the analyzed file from breaking out of code spans', () => {
    const model = buildModel({ layers: [dense(8, { name: 'x`y**z', activation: 'relu', fanIn: 4, fanOut: 8 })] });
    const layer = model.layers[0]!;
    const md = describeInitializerHover(layer, defined(layer.kernelInit), model);
    expect(md).toContain('`x y**z`');
  });
});

describe('describeActivationHover', () => {
  it('states that sigmoid is not zero-centred and which weights feed it', () => {
    const model = buildModel({ layers: [dense(32, { activation: 'sigmoid', fanIn: 16, fanOut: 32 }), dense(1, { fanIn: 32, fanOut: 1 })] });
    const layer = model.layers[0]!;
    const md = describeActivationHover(defined(layer.activation), layer, model);
    expect(md).toContain('**no**');
    expect(md).toContain('0.25');
    expect(md).toContain("`'glorot_uniform'`");
    expect(md).toContain('Weights feeding it');
  });

  it('keeps |x| inside its table cell: every row of the sigmoid and tanh tables has exactly two cells', () => {
    for (const name of ['sigmoid', 'tanh'] as const) {
      const model = buildModel({ layers: [dense(32, { activation: name, fanIn: 16, fanOut: 32 }), dense(1, { fanIn: 32, fanOut: 1 })] });
      const layer = model.layers[0]!;
      const md = describeActivationHover(defined(layer.activation), layer, model);
      const rows = md.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| |'));
      expect(rows.length).toBeGreaterThanOrEqual(4);
      // GFM splits a row at every `|` not preceded by a backslash.
      for (const row of rows) expect(row.split(/(?<!\\)\|/).slice(1, -1), row).toHaveLength(2);
      expect(md).toMatch(/< 0\.01 for \\\|x\\\| > /);
    }
  });

  it("says when the output's loss applies the softmax again (GL105), and not when the loss reads probabilities", () => {
    const model = buildModel({ framework: 'torch', layers: [dense(64, { fanIn: 784, fanOut: 64 }), act('relu'), dense(10, { fanIn: 64, fanOut: 10 }), act('softmax', { className: 'nn.Softmax' })] });
    const layer = model.layers[3]!;
    model.training.losses = [{ name: 'sparse_categorical_crossentropy', fromLogits: true, at: null, onOutput: true, output: null, appliedFirst: null }];
    expect(describeActivationHover(defined(layer.activation), layer, model)).toContain('its loss, `CrossEntropyLoss`, applies a softmax of its own to this output');
    model.training.losses = [{ name: 'sparse_categorical_crossentropy', fromLogits: false, at: null, onOutput: true, output: null, appliedFirst: null }];
    expect(describeActivationHover(defined(layer.activation), layer, model)).not.toContain('of its own');
  });

  it("says when the output's loss reads log-probabilities or probabilities this activation does not give (GL106), and not when it gives them", () => {
    const model = buildModel({ framework: 'torch', layers: [dense(64, { fanIn: 784, fanOut: 64 }), act('relu'), dense(10, { fanIn: 64, fanOut: 10 }), act('softmax', { className: 'nn.Softmax' })] });
    const layer = model.layers[3]!;
    model.training.losses = [{ name: 'nll', fromLogits: null, at: null, onOutput: true, output: null, appliedFirst: null }];
    expect(describeActivationHover(defined(layer.activation), layer, model)).toContain('its loss, `NLLLoss`, reads log-probabilities, which this softmax does not give (GL106): end the output in a log_softmax.');
    const tanh = buildModel({ layers: [dense(64, { activation: 'relu' }), dense(1, { activation: 'tanh' })] });
    const output = tanh.layers[1]!;
    tanh.training.losses = [{ name: 'binary_crossentropy', fromLogits: false, at: null, onOutput: true, output: null, appliedFirst: null }];
    expect(describeActivationHover(defined(output.activation), output, tanh)).toContain('its loss, `binary_crossentropy`, reads probabilities, which this tanh does not give (GL106): end the output in a sigmoid or pass from_logits=True.');
    const sigmoid = buildModel({ layers: [dense(64, { activation: 'relu' }), dense(1, { activation: 'sigmoid' })] });
    sigmoid.training.losses = tanh.training.losses;
    expect(describeActivationHover(defined(sigmoid.layers[1]!.activation), sigmoid.layers[1]!, sigmoid)).not.toContain('GL106');
  });

  it('says when a softmax over several classes trains on binary cross-entropy (GL107), not at two classes', () => {
    const model = buildModel({ layers: [dense(64, { activation: 'relu' }), dense(10, { activation: 'softmax' })] });
    model.training.losses = [{ name: 'binary_crossentropy', fromLogits: false, at: null, onOutput: true, output: null, appliedFirst: null }];
    const output = model.layers[1]!;
    expect(describeActivationHover(defined(output.activation), output, model)).toContain('its loss, `binary_crossentropy`, scores each of the 10 classes as an independent 0/1 label, which this softmax does not give (GL107): its gradient is about 1/9^2');
    const two = buildModel({ layers: [dense(64, { activation: 'relu' }), dense(2, { activation: 'softmax' })] });
    two.training.losses = model.training.losses;
    expect(describeActivationHover(defined(two.layers[1]!.activation), two.layers[1]!, two)).not.toContain('GL107');
  });

  it('shows the leaky slope in use', () => {
    const model = buildModel({ framework: 'torch', layers: [dense(32, { fanIn: 16, fanOut: 32 }), act('leaky_relu', { className: 'nn.LeakyReLU' })] });
    const layer = model.layers[1]!;
    const md = describeActivationHover(defined(layer.activation), layer, model);
    expect(md).toContain('negative slope here | 0.01 (PyTorch default)');
    expect(md).not.toContain('identity');
  });

  it('says a leaky ReLU of slope 1 is the identity (GL103), and names the torch trap nn.LeakyReLU(True)', () => {
    const slopeOne = { name: 'leaky_relu', spelling: 'nn.LeakyReLU(True)', range: null, source: 'layer', params: { negative_slope: 1 } } as const;
    const torch = buildModel({ framework: 'torch', layers: [dense(32, { fanIn: 16, fanOut: 32 }), act('leaky_relu', { className: 'nn.LeakyReLU' }), dense(10)] });
    torch.layers[1]!.activation = { ...slopeOne, params: { ...slopeOne.params } };
    const md = describeActivationHover(defined(torch.layers[1]!.activation), torch.layers[1]!, torch);
    expect(md).toContain('negative slope here | 1 |');
    expect(md).toContain('**Here:** a negative slope of 1 makes it the identity, f(x) = x: the layers around it compose into one linear map (GL103).');
    expect(md).toContain('`nn.LeakyReLU(True)` passes True, 1.0, as the slope; write `inplace=True` as a keyword.');
    const keras = buildModel({ layers: [dense(32, { fanIn: 16, fanOut: 32 }), act('leaky_relu'), dense(10)] });
    keras.layers[1]!.activation = { name: 'leaky_relu', spelling: 'layers.LeakyReLU(alpha=1.0)', range: null, source: 'layer', params: { alpha: 1 } };
    const kerasMd = describeActivationHover(defined(keras.layers[1]!.activation), keras.layers[1]!, keras);
    expect(kerasMd).toContain('makes it the identity');
    expect(kerasMd).not.toContain('inplace');
  });
});

describe('describeLayerHover', () => {
  it('says on an output layer with no activation when its loss reads probabilities (GL106), not when the loss takes logits', () => {
    const model = buildModel({ layers: [dense(128, { activation: 'relu', fanIn: 784, fanOut: 128 }), dense(10, { fanIn: 128, fanOut: 10 })] });
    model.training.losses = [{ name: 'sparse_categorical_crossentropy', fromLogits: false, at: null, onOutput: true, output: null, appliedFirst: null }];
    expect(describeLayerHover(model.layers[1]!, model)).toContain('its loss, `sparse_categorical_crossentropy`, reads probabilities, which this layer, with no activation, does not give (GL106): end the output in a softmax or pass from_logits=True.');
    expect(describeLayerHover(model.layers[0]!, model)).not.toContain('GL106');
    model.training.losses = [{ name: 'sparse_categorical_crossentropy', fromLogits: true, at: null, onOutput: true, output: null, appliedFirst: null }];
    expect(describeLayerHover(model.layers[1]!, model)).not.toContain('GL106');
  });

  it('explains BatchNorm with the momentum conventions and notes a redundant bias', () => {
    const model = buildModel({ layers: [dense(64, { fanIn: 32, fanOut: 64 }), layerOf('batchnorm', { className: 'layers.BatchNormalization', detail: { norm: { momentum: 0.99 } } }), act('relu')] });
    const md = describeLayerHover(model.layers[1]!, model);
    expect(md).toContain('Batch normalization');
    expect(md).toContain('momentum: `0.99`');
    expect(md).toContain('redundant');
    expect(md).toContain('Ioffe & Szegedy 2015');
  });

  it('calls the bias redundant only when BatchNorm directly follows the pre-activation output', () => {
    const bn = () => layerOf('batchnorm', { className: 'layers.BatchNormalization' });
    const conv = (extra = {}) => layerOf('conv2d', { name: 'c1', units: 16, fanIn: 27, fanOut: 144, ...extra });
    const direct = buildModel({ layers: [conv(), bn(), act('relu')] });
    expect(describeLayerHover(direct.layers[1]!, direct)).toContain('is redundant here');
    const fused = buildModel({ layers: [conv({ activation: 'relu' }), bn()] });
    expect(describeLayerHover(fused.layers[1]!, fused)).not.toContain('is redundant here');
    const separate = buildModel({ layers: [conv(), act('relu'), bn()] });
    expect(describeLayerHover(separate.layers[2]!, separate)).not.toContain('is redundant here');
    const graph = buildModel({ isGraph: true, layers: [conv({ activation: 'relu' }), layerOf('batchnorm', { inputs: [0] })] });
    expect(describeLayerHover(graph.layers[1]!, graph)).not.toContain('is redundant here');
  });

  it('puts this layer\'s numbers before the general explanation', () => {
    const model = buildModel({ layers: [dense(256, { activation: 'relu', kernelInit: keras('he_normal'), fanIn: 784, fanOut: 256 }), dense(10, { activation: 'softmax', fanIn: 256, fanOut: 10 })] });
    const layer = model.layers[0]!;
    const md = describeInitializerHover(layer, defined(layer.kernelInit), model);
    expect(md.indexOf('fan_in = 784')).toBeGreaterThanOrEqual(0);
    expect(md.indexOf('fan_in = 784')).toBeLessThan(md.indexOf('**Aims for**'));
    expect(md.indexOf('Matches')).toBeLessThan(md.indexOf('**Suits:**'));
    const layerMd = describeLayerHover(layer, model);
    expect(layerMd.startsWith('#### Predicted at initialization')).toBe(true);
    expect(layerMd.indexOf('fan_in = 784')).toBeLessThan(layerMd.indexOf('**Aims for**'));
    const bnModel = buildModel({ layers: [dense(64, { fanIn: 32, fanOut: 64 }), layerOf('batchnorm', { className: 'layers.BatchNormalization', detail: { norm: { momentum: 0.99 } } }), act('relu')] });
    const bnMd = describeLayerHover(bnModel.layers[1]!, bnModel);
    expect(bnMd.indexOf('momentum: `0.99`')).toBeLessThan(bnMd.indexOf('Batch normalization'));
    expect(bnMd.indexOf('is redundant here')).toBeLessThan(bnMd.indexOf('**Effect:**'));
  });

  it('recommends AlphaDropout for Dropout in a SELU model', () => {
    const model = buildModel({ layers: [dense(64, { activation: 'selu', fanIn: 32, fanOut: 64 }), layerOf('dropout', { detail: { rate: 0.2 } }), dense(1, { fanIn: 64, fanOut: 1 })] });
    const md = describeLayerHover(model.layers[1]!, model);
    expect(md).toContain('drop probability: `0.2`');
    expect(md).toContain('AlphaDropout');
  });

  it('shows the framework default initializer on a dense layer', () => {
    const model = buildModel({ layers: [dense(256, { activation: 'tanh', fanIn: 784, fanOut: 256 }), dense(10, { fanIn: 256, fanOut: 10 })] });
    const md = describeLayerHover(model.layers[0]!, model);
    expect(md).toContain('Keras default: glorot_uniform');
    expect(md).toContain('±0.07596');
  });
});
