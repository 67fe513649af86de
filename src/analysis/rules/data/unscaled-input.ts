/**
 * GL501: raw 0..255 image pixels reach training. The training pass traces the data from its loader
 * to `fit` / the training loop (DataSourceIR.scaled); this rule also accepts scaling done inside the
 * model (a Rescaling / Normalization layer before the first learning layer).
 */
import { isLearningKind } from '../../../shared/layers';
import type { LayerIR, ModelIR } from '../../../shared/ir';
import type { RelatedInfo } from '../../../shared/findings';
import type { Rule, RuleMeta } from '../types';
import { makeFinding } from '../helpers/make-finding';

/** Layers that read the input with weights: scaling must happen before the first of them. */

const meta: RuleMeta = {
  code: 'GL501',
  name: 'unscaled-input',
  category: 'data',
  defaultSeverity: 'warning',
  fixable: 'none',
  summary: 'Raw 0..255 image pixels reach training without scaling or normalization.',
  options: [],
  docs: `## What it does
Finds image data whose loader is visible in the same file as the training code and that reaches
\`model.fit(...)\` or a PyTorch training loop without being scaled:
- Keras: \`keras.datasets.mnist / fashion_mnist / cifar10 / cifar100.load_data()\`,
  \`image_dataset_from_directory\`, \`ImageDataGenerator(...).flow*\` without \`rescale\` or
  standardization options, \`cv2.imread\`, \`PIL.Image.open\`, \`load_img\`. The \`x\` passed to \`fit\` is
  traced back through assignments, \`astype\`, \`reshape\`, \`np.array\`, list appends and tf.data
  methods; a division (\`/ 255.\`), subtraction, multiplication, a scaler
  (\`StandardScaler().fit_transform\`), \`preprocess_input\` or a \`.map(...)\` that scales counts as
  scaling, and so does a \`Rescaling\` or \`Normalization\` layer before the model's first learning layer.
- PyTorch: torchvision image datasets whose \`transform\` turns images into tensors without scaling
  (\`PILToTensor()\`, \`v2.ToImage()\` without \`ToDtype(..., scale=True)\`). \`ToTensor()\` already
  scales to [0, 1] and \`Normalize\` standardizes, so both are fine.

When the path from the loader to training cannot be followed (a helper function, a conditional
assignment, data loaded in another file), nothing is reported.

## Why is this bad?
Pixels stored as 0..255 make the first layer's pre-activations about 100 times larger than the
initialization schemes assume: Glorot & Bengio (2010) and He et al. (2015) choose the weight variance
so that unit-variance inputs give unit-variance activations. With inputs of magnitude ~100, sigmoid
and tanh units saturate from the first step (their gradient vanishes), ReLU networks produce huge
activations and losses, and the gradient of the first layer's weights is scaled by the input, so a
learning rate that suits the other layers is far too large for it. Scaling inputs to [0, 1] or
standardizing them to zero mean and unit variance keeps the signal in the range the initialization
and the learning rate were designed for (LeCun et al. 1998, "Efficient BackProp").

## Example
\`\`\`python
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
model.fit(x_train, y_train, epochs=5)
\`\`\`

## Use instead
\`\`\`python
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.astype("float32") / 255.0
x_test = x_test.astype("float32") / 255.0
model.fit(x_train, y_train, epochs=5)
\`\`\`
or put \`layers.Rescaling(1.0 / 255)\` first in the model, or use \`transforms.ToTensor()\` in PyTorch.

No automatic fix is offered: the same scaling must be applied to the training, validation, test and
inference inputs, which one local edit cannot guarantee.

## References
- LeCun, Bottou, Orr & Müller (1998), Efficient BackProp.
- Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks.
- He, Zhang, Ren & Sun (2015), Delving Deep into Rectifiers.
- Ioffe & Szegedy (2015), Batch Normalization.
`,
};

/**
 * true when the model scales its own input (a rescaling layer before the first learning layer);
 * null when that cannot be known (no layers, or an unknown layer first).
 */
function modelScalesInput(model: ModelIR): boolean | null {
  if (model.layers.length === 0) return null;
  const firstLearning = model.layers.findIndex((l) => isLearningKind(l.kind));
  const before: LayerIR[] = firstLearning < 0 ? model.layers : model.layers.slice(0, firstLearning);
  if (before.some((l) => l.kind === 'rescaling' || l.kind === 'batchnorm' || l.kind === 'layernorm')) return true;
  if (before.some((l) => l.kind === 'unknown')) return null;
  return firstLearning < 0 ? null : false;
}

export const rule: Rule = {
  meta,
  check(model, context) {
    const unscaled = model.training.data.filter((d) => d.kind === 'image' && d.scaled === false);
    if (unscaled.length === 0 || modelScalesInput(model) !== false) return [];
    return unscaled.map((data) => {
      const related: RelatedInfo[] = data.reachesTraining
        ? [{ location: { file: data.file, range: data.reachesTraining }, message: `the unscaled pixels reach training of model '${model.name}' here` }]
        : [];
      return {
        ...makeFinding(meta, model, context, {
          message: `Images from ${data.loader} reach training as raw 0..255 pixels: no scaling (/ 255.0), normalization or Rescaling layer on the way to model '${model.name}'. Inputs ~100x larger than the initialization assumes saturate or blow up the first layer.`,
          range: data.range,
          related,
        }),
        file: data.file,
      };
    });
  },
};
