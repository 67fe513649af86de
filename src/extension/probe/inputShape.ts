/**
 * The input shape of a model whose code does not say it: asked once in an input box prefilled with the
 * analyzer's best guess (in the framework's layout, as the user writes it), remembered per model in
 * the workspace state, and handed to the probe as the model's input guess (source 'user').
 */
import * as vscode from 'vscode';
import type { InputShapeGuess, ModelIR } from '../../shared/ir';

const KEY_PREFIX = 'gradientLens.inputShape:';

function keyOf(uri: vscode.Uri, model: ModelIR): string {
  return `${KEY_PREFIX}${uri.toString()}#${model.name}`;
}

/** "3, 32, 32" -> [3, 32, 32]; null when it is not a list of positive whole numbers. */
export function parseShape(text: string): number[] | null {
  const parts = text.split(/[\s,x×()[\]]+/).filter((p) => p !== '');
  if (parts.length === 0 || parts.length > 5) return null;
  const dims = parts.map(Number);
  return dims.every((d) => Number.isInteger(d) && d > 0 && d <= 100_000) ? dims : null;
}

function layoutWords(model: ModelIR, guess: InputShapeGuess): string {
  if (guess.tokens) return 'sequence length (integer tokens)';
  if (guess.layout === 'channels_first') return guess.shape.length === 3 ? 'C, H, W as PyTorch reads it' : 'channels first, as PyTorch reads it';
  if (model.framework === 'keras' && guess.shape.length === 3) return 'H, W, C as Keras reads it';
  return 'without the batch dimension';
}

export class InputShapes {
  constructor(private readonly state: vscode.Memento) {}

  /** The model with its remembered or newly asked input shape; `ask` forces the question (after a shape error). */
  async resolve(uri: vscode.Uri, model: ModelIR, ask = false): Promise<ModelIR> {
    const guess = model.inputGuess;
    if (!guess) return model;
    const remembered = this.state.get<unknown>(keyOf(uri, model));
    if (!ask && Array.isArray(remembered) && remembered.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0)) {
      return { ...model, inputGuess: { ...guess, shape: remembered as number[], source: 'user', evidence: 'entered in the editor' } };
    }
    // Only a default guess needs the user: the other sources were read from the code.
    if (!ask && guess.source !== 'default') return model;
    const answer = await vscode.window.showInputBox({
      title: `Gradient Lens: input shape of ${model.name}`,
      prompt: `The code does not say the input of ${model.name}: ${guess.evidence}. Shape without the batch dimension (${layoutWords(model, guess)}).`,
      value: guess.shape.join(', '),
      ignoreFocusOut: true,
      validateInput: (text) => (parseShape(text) ? null : 'Whole numbers separated by commas, e.g. 3, 32, 32'),
    });
    const shape = answer === undefined ? null : parseShape(answer);
    if (!shape) return model; // dismissed: the probe uses its guess and says so
    await this.state.update(keyOf(uri, model), shape);
    return { ...model, inputGuess: { ...guess, shape, source: 'user', evidence: 'entered in the editor' } };
  }
}
