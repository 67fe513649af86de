/** Models the probe must refuse or handle with a clear message: never a crash, never silence. */
import { describe, expect, it } from 'vitest';
import { runProbe } from '../../src/probe/run';
import { probeOptions, type ProbeError, type ProbeOutcome } from '../../src/shared/probe';
import { keras, torch } from './ir-builder';
import { defined } from '../defined';
import { analyzeText } from '../unit/project-helper';

const options = (extra: Parameters<typeof probeOptions>[0] = {}) => probeOptions({ backend: 'wasm', steps: 3, batchSize: 8, ...extra });

function failed(outcome: ProbeOutcome): ProbeError {
  if (outcome.ok) throw new Error('expected the probe to fail');
  return outcome.error;
}

describe('bad input', () => {
  it('refuses an unsupported layer, naming it and its line', async () => {
    const model = keras('vol').input([8, 8, 8, 1]).layer({ kind: 'conv-transpose', name: 'c3', className: 'layers.Conv3DTranspose', units: 4, kernelSize: [3, 3, 3] }).build();
    const error = failed(await runProbe(model, options()));
    expect(error.kind).toBe('unsupported');
    expect(error.message).toContain("layers.Conv3DTranspose 'c3' (line 3)");
    expect(error.message).toContain('3-D transposed convolutions are not supported by the probe');
    expect(error.layer).toEqual({ name: 'c3', line: 3 });
  });

  it('refuses a local response normalization of even size (PyTorch\'s window is then lopsided) and builds its odd twin', async () => {
    const lrn = (size: number) => torch('alex').input([4, 8, 8]).layer({ kind: 'conv2d', name: 'conv', units: 8, inFeatures: 4, kernelSize: [3, 3] }).layer({ kind: 'local-response-norm', name: 'lrn', className: 'nn.LocalResponseNorm', detail: { lrn: { size, alpha: 1e-4, beta: 0.75, k: 1 } } }).dense(2).build();
    const error = failed(await runProbe(lrn(4), options()));
    expect(error.kind).toBe('unsupported');
    expect(error.message).toContain("nn.LocalResponseNorm 'lrn'");
    expect(error.message, error.message).toContain('an even size (4)');
    expect((await runProbe(lrn(5), options())).ok).toBe(true);
  });

  it('refuses an Embedding that reads a computed float tensor (no token ids) instead of crashing in the lookup', async () => {
    const model = torch('decoder').input([16]).layer({ kind: 'dense', name: 'fc', units: 8, inFeatures: 16 }).layer({ kind: 'embedding', name: 'embed', className: 'nn.Embedding', units: 4, inFeatures: 100 }).build();
    const error = failed(await runProbe(model, options()));
    expect(error.kind).toBe('unsupported');
    expect(error.message).toContain("nn.Embedding 'embed'");
    expect(error.message).toMatch(/reads the output of \S+ 'fc' \(line 3\)/);
    // Its twin that looks up the model input is built, with token inputs.
    const tokens = await runProbe(torch('encoder').layer({ kind: 'embedding', name: 'embed', units: 4, inFeatures: 100 }).layer({ kind: 'dense', units: 2, inFeatures: 4 }).build(), options());
    expect(tokens.ok).toBe(true);
  });

  it('passes the input through an unknown layer the reader knows keeps it (Masking), saying so, and refuses one it does not', async () => {
    const masked = keras('masked').input([8]).dense(8, 'relu').layer({ kind: 'unknown', name: 'mask', className: 'layers.Masking', detail: { identity: true } }).dense(2).build();
    const outcome = await runProbe(masked, options());
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.result.notices.some((n) => n.severity === 'information' && n.message.includes("layers.Masking 'mask'") && n.line === 4)).toBe(true);
    const custom = keras('custom').input([8]).dense(8, 'relu').layer({ kind: 'unknown', name: 'mine', className: 'MyLayer', detail: { identity: false } }).dense(2).build();
    const error = failed(await runProbe(custom, options()));
    expect(error.kind).toBe('unsupported');
    expect(error.message).toMatch(/MyLayer 'mine'/);
  });

  it('says when the input shape is unknown (without CLI wording: the editor shows it too), and takes a given one', async () => {
    const model = keras('noshape').dense(8, 'relu').dense(2).build();
    const error = failed(await runProbe(model, options()));
    expect(error.kind).toBe('shape');
    expect(error.message).toMatch(/cannot tell the input shape of model noshape/);
    expect(error.message).not.toMatch(/--/);
    const given = await runProbe(model, options({ inputShape: [12] }));
    expect(given.ok && given.result.inputShape).toEqual([12]);
    expect(given.ok && given.result.notices.some((n) => n.message === 'Input shape 12 as given (channels last).')).toBe(true);
  });

  it('takes the input size from the first Linear and says so', async () => {
    const outcome = await runProbe(torch('mlp').layer({ kind: 'dense', units: 4, inFeatures: 10 }).layer({ kind: 'dense', units: 2, inFeatures: 4 }).build(), options());
    expect(outcome.ok && outcome.result.inputShape).toEqual([10]);
    expect(outcome.ok && outcome.result.notices.some((n) => /in_features/.test(n.message))).toBe(true);
  });

  it('reports a Linear whose in_features do not match, with its line', async () => {
    const model = torch('bad').input([10]).layer({ kind: 'dense', name: 'fc1', units: 4, inFeatures: 10 }).layer({ kind: 'dense', name: 'fc2', units: 2, inFeatures: 5 }).build();
    const error = failed(await runProbe(model, options()));
    expect(error.kind).toBe('shape');
    expect(error.message).toMatch(/'fc2' \(line 4\): expects 5 input features but receives 4/);
  });

  it('builds a layer whose sizes are constructor arguments with representative values, named in a note', async () => {
    // A character LSTM: nn.Embedding(vocab_size, emb), nn.LSTM(emb, hidden), nn.Linear(hidden, vocab_size), sizes unknown.
    const model = torch('CharRNN').layer({ kind: 'embedding', name: 'emb', className: 'nn.Embedding' }).layer({ kind: 'lstm', name: 'rnn', className: 'nn.LSTM', inFeatures: 64 }).layer({ kind: 'dense', name: 'head', className: 'nn.Linear' }).build();
    model.inputGuess = { shape: [12], tokens: true, layout: 'channels_last', source: 'constraint', evidence: 'an Embedding reads integer tokens' };
    const outcome = await runProbe(model, options({ steps: 1 }));
    expect(outcome.ok ? null : outcome.error).toBeNull();
    if (!outcome.ok) return;
    const messages = outcome.result.notices.map((n) => n.message);
    // The embedding dimension is the LSTM's declared input_size; the vocabulary a representative value.
    expect(messages).toContainEqual("nn.Embedding 'emb' (line 3): the code does not fix its embedding dimension and vocabulary; probed with embedding dimension 64 (the input size of nn.LSTM 'rnn' (line 4)), vocabulary 10,000 (a representative value).");
    expect(messages).toContainEqual("nn.LSTM 'rnn' (line 4): the code does not fix its hidden size; probed with hidden size 128 (a representative value).");
    expect(defined(outcome.result.layers.find((l) => l.name === 'emb')).params).toBe(10_000 * 64);
    expect(defined(outcome.result.layers.find((l) => l.name === 'head')).params).toBe(128 * 10 + 10);
  });

  it('builds a torch RNN whose num_layers is a constructor argument with a representative stack, named in a note', async () => {
    const model = torch('LM').layer({ kind: 'gru', name: 'rnn', className: 'nn.GRU', units: 8, inFeatures: 4, detail: { recurrent: { numLayers: null } } }).layer({ kind: 'dense', name: 'head', className: 'nn.Linear', units: 3, inFeatures: 8 }).build();
    model.inputGuess = { shape: [6, 4], tokens: false, layout: 'channels_last', source: 'default', evidence: 'a recurrent first layer' };
    const outcome = await runProbe(model, options({ steps: 1 }));
    expect(outcome.ok ? null : outcome.error).toBeNull();
    if (!outcome.ok) return;
    expect(outcome.result.notices.map((n) => n.message)).toContainEqual("nn.GRU 'rnn' (line 3): the code does not fix its number of stacked layers; probed with number of stacked layers 2 (a representative value).");
    // Two stacked cells, each with torch's two bias vectors: 3 gates x 8 x (in + 8 + 2).
    expect(defined(outcome.result.layers.find((l) => l.name === 'rnn')).params).toBe(3 * 8 * (4 + 8 + 2) + 3 * 8 * (8 + 8 + 2));
  });

  it('refuses a model over the parameter budget (its weights alone), naming the largest layer, before building anything', async () => {
    const model = keras('huge').input([16384]).dense(8192, 'relu', { name: 'wide' }).dense(10).build();
    const error = failed(await runProbe(model, options()));
    expect(error.kind).toBe('budget');
    expect(error.message).toMatch(/'wide' \(line 3\) with 134,225,920/);
    expect(error.layer?.name).toBe('wide');
  });

  it('scales a model over the step budget: a smaller batch, then a smaller image when no parameter depends on it', async () => {
    const model = keras('big_images').input([512, 512, 3]).layer({ kind: 'conv2d', name: 'stem', units: 64, kernelSize: [3, 3], detail: { conv: { padding: 'same' } } }).layer({ kind: 'global-pool' }).dense(2).build();
    const outcome = await runProbe(model, options({ batchSize: 32, steps: 1 }));
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    const { result } = outcome;
    expect(result.batchSize).toBe(8);
    expect(result.inputShape[0]).toBeLessThan(512);
    expect(result.inputShape[2]).toBe(3);
    expect(defined(result.layers.find((l) => l.name === 'stem')).params).toBe(3 * 3 * 3 * 64 + 64);
    expect(result.notices.map((n) => n.message)).toContainEqual(expect.stringMatching(/^Scaled to the probe's size budget: batch 32 -> 8, input 512x512x3 -> \d+x\d+x3 \(no layer's parameters depend on the image size\); widths and fans unchanged/));
  });

  it('never shrinks an image whose size sets a layer fan (Flatten into Dense): only the batch', async () => {
    const model = keras('flat_head').input([128, 128, 3]).layer({ kind: 'conv2d', name: 'stem', units: 32, kernelSize: [3, 3], detail: { conv: { padding: 'same' } } }).layer({ kind: 'flatten' }).dense(2).build();
    const outcome = await runProbe(model, options({ batchSize: 32, steps: 1, budget: { maxStepMacs: 2e8 } }));
    expect(outcome.ok ? null : outcome.error).toBeNull();
    if (!outcome.ok) return;
    expect(outcome.result.inputShape).toEqual([128, 128, 3]);
    expect(outcome.result.batchSize).toBeLessThan(32);
    expect(outcome.result.notices.map((n) => n.message)).toContainEqual(expect.stringMatching(/^Scaled to the probe's size budget: batch 32 -> \d+; widths/));
  });

  it('refuses a forward pass over the activation budget even at the smallest batch and image', async () => {
    const model = keras('big_flat').input([512, 512, 3]).layer({ kind: 'conv2d', name: 'stem', units: 64, kernelSize: [3, 3], detail: { conv: { padding: 'same' } } }).layer({ kind: 'flatten' }).dense(2).build();
    const error = failed(await runProbe(model, options({ batchSize: 32, budget: { maxActivations: 1e6, maxParams: 1e9 } })));
    expect(error.kind).toBe('budget');
    expect(error.shrinkable).toBe(true);
    expect(error.message).toMatch(/activation values per step even at batch 1, over the probe budget of 1,000,000 \(the memory of the wasm backend.*'stem'.*Its input cannot shrink: at 256x256x3, dense .* would have other parameters/);
  });

  it('goes down to one example per step only without batch statistics: a BatchNorm keeps two', async () => {
    // 16,386 values per example (input, conv, flatten, head): one example fits 20,000, two do not.
    const plain = keras('per_example').input([16, 16, 3]).layer({ kind: 'conv2d', name: 'stem', units: 32, kernelSize: [3, 3], detail: { conv: { padding: 'same' } } }).layer({ kind: 'flatten' }).dense(2).build();
    const budget = { maxActivations: 20_000, maxParams: 1e9 };
    const one = await runProbe(plain, options({ batchSize: 32, steps: 1, budget }));
    expect(one.ok ? one.result.batchSize : one.error.message).toBe(1);
    const normed = keras('batch_stats').input([16, 16, 3]).layer({ kind: 'conv2d', name: 'stem', units: 32, kernelSize: [3, 3], detail: { conv: { padding: 'same' } } }).layer({ kind: 'batchnorm' }).layer({ kind: 'flatten' }).dense(2).build();
    const error = failed(await runProbe(normed, options({ batchSize: 32, steps: 1, budget })));
    expect(error.message).toMatch(/even at batch 2/);
  });

  it('stops when cancelled mid-run', async () => {
    const controller = new AbortController();
    const model = keras('mlp').input([32]).denseStack(4, 64, 'relu').dense(2).build();
    const outcome = await runProbe(model, options({ steps: 200 }), {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.phase === 'train' && e.step === 3) controller.abort();
      },
    });
    const error = failed(outcome);
    expect(error.kind).toBe('cancelled');
    expect(error.message).toBe('probe cancelled after 3 of 200 steps');
  });

  it('reports a what-if that names a missing layer as bad input', async () => {
    const model = keras('m').input([4]).dense(2).build();
    const error = failed(await runProbe(model, options(), { whatIf: { title: 'x', ops: [{ op: 'remove-layer', layerId: 'L42' }] } }));
    expect(error.kind).toBe('input');
    expect(error.message).toMatch(/L42/);
  });

  it('rejects an explicitly requested backend that cannot load', async () => {
    const error = failed(await runProbe(keras('m').input([4]).dense(2).build(), options({ backend: 'node' })));
    expect(error.kind).toBe('backend');
    expect(error.message).toMatch(/node backend could not be started/);
  });
});

describe('token ids', () => {
  it('stay within the smallest table of the Embeddings that read them (a position table read as tokens), never past one', async () => {
    const model = keras('tokens')
      .asGraph()
      .input([20])
      .layer({ kind: 'input', name: 'ids' })
      .layer({ kind: 'embedding', name: 'token_emb', units: 8, inFeatures: 5000, inputs: ['ids'] })
      .layer({ kind: 'embedding', name: 'pos_emb', units: 8, inFeatures: 20, inputs: ['ids'] })
      .layer({ kind: 'add', name: 'sum', inputs: ['token_emb', 'pos_emb'] })
      .layer({ kind: 'global-pool', name: 'pool', inputs: ['sum'] })
      .layer({ kind: 'dense', name: 'out', units: 2, inputs: ['pool'] })
      .build();
    const outcome = await runProbe(model, options());
    expect(outcome.ok ? 'built' : outcome.error.message).toBe('built');
  });
});

describe('a layer the analyzer could not follow', () => {
  const refusal = async (source: string, name: string): Promise<string> => {
    const model = defined((await analyzeText(source, '/tmp/unfollowed.py')).models.find((m) => m.name === name));
    return failed(await runProbe(model, options())).message;
  };

  it("says why, in the analyzer's words: a loop with non-constant bounds, a stack whose num_layers is not a constant", async () => {
    const loop = `import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self, n_blocks):\n        super().__init__()\n        layers = []\n        for _ in range(n_blocks):\n            layers += [nn.Linear(32, 32), nn.ReLU()]\n        self.blocks = nn.Sequential(*layers)\n        self.out = nn.Linear(32, 1)\n\n    def forward(self, x):\n        return self.out(self.blocks(x))\n`;
    expect(await refusal(loop, 'Net')).toMatch(/the probe does not know self\.blocks: the analyzer could not follow it \(layers built in a loop with non-constant bounds\)/);
    const stack = `import torch.nn as nn\n\n\nclass Enc(nn.Module):\n    def __init__(self, n):\n        super().__init__()\n        self.tr = nn.TransformerEncoder(nn.TransformerEncoderLayer(64, 4, 128, batch_first=True), n)\n        self.fc = nn.Linear(64, 10)\n\n    def forward(self, x):\n        return self.fc(self.tr(x).mean(dim=1))\n`;
    expect(await refusal(stack, 'Enc')).toMatch(/\(nn\.TransformerEncoder with a num_layers that is not a constant\)/);
  });

  it('keeps the general advice for a layer it knows nothing more of than its name', async () => {
    const custom = `import torch.nn as nn\nfrom somewhere import Mystery\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.m = Mystery(32)\n        self.fc = nn.Linear(32, 1)\n\n    def forward(self, x):\n        return self.fc(self.m(x))\n`;
    expect(await refusal(custom, 'Net')).toMatch(/it cannot see what it computes \(a custom block/);
  });
});
