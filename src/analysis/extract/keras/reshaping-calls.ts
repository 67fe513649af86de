/**
 * TensorFlow and Keras backend functions that only add an axis to a tensor, copy its values or resize an
 * image, in model code or in a Lambda's function, read as the layers that compute the same thing (so the
 * probe builds them and the rules see through them):
 * - `expand_dims(x, axis)`: a Reshape to the tensor's static shape with an axis of size 1 inserted;
 * - `tile(x, multiples)`: along each axis, a Concatenate of that many copies (tiling is exactly that);
 * - `repeat_elements(x, rep, axis)`, `tf.repeat(x, rep, axis)` on an axis of size 1, where repeating each
 *   entry is tiling (an attention gate's one-channel map spread over the channels of the features it gates);
 * - `tf.image.resize(x, size)` and its TF1 spellings: an upsampling to `size` where the probe interpolates
 *   as TensorFlow does (bilinear with half-pixel centres as TF2 does, or align_corners=True; nearest by
 *   whole factors; anything from a 1 x 1 map, which every method copies). TF1's default bilinear (neither
 *   half-pixel centres nor aligned corners) samples elsewhere, and is left unread.
 * Axes are Keras', the batch at 0; nothing is done on the batch axis (that would change the batch).
 * Anything else (an axis of another size, multiples not constant) is left to the caller, which notes it.
 */
import type { Node } from '../../python/syntax-tree';
import { rangeOf } from '../../python/syntax';
import { callArgs } from '../../python/syntax-cache';
import { LIMITS } from '../../python/limits';
import { makeLayer } from '../builders';
import type { Reader } from './executor';
import { staticShape } from './lambda';
import { mergeLayer } from './recognize';
import type { GraphNode, Value } from './values';

const EXPAND_DIMS = new Set(['keras.backend.expand_dims', 'tensorflow.expand_dims', 'keras.ops.expand_dims']);
const TILE = new Set(['keras.backend.tile', 'tensorflow.tile', 'keras.ops.tile']);
const REPEAT = new Set(['keras.backend.repeat_elements', 'tensorflow.repeat', 'keras.ops.repeat']);
/** Image resizing, by whether it samples at half-pixel centres by default (TF2) or not (TF1, `compat.v1`). */
const RESIZE: ReadonlyMap<string, { halfPixel: boolean; method?: string }> = new Map([
  ['tensorflow.image.resize', { halfPixel: true }],
  ['keras.ops.image.resize', { halfPixel: true }],
  ['tensorflow.compat.v1.image.resize', { halfPixel: false }],
  ['tensorflow.compat.v1.image.resize_images', { halfPixel: false }],
  ['tensorflow.image.resize_images', { halfPixel: false }],
  ['tensorflow.compat.v1.image.resize_bilinear', { halfPixel: false, method: 'bilinear' }],
  ['tensorflow.image.resize_bilinear', { halfPixel: false, method: 'bilinear' }],
  ['tensorflow.compat.v1.image.resize_nearest_neighbor', { halfPixel: false, method: 'nearest' }],
  ['tensorflow.image.resize_nearest_neighbor', { halfPixel: false, method: 'nearest' }],
]);

/** The layers `q(...)` computes on a tensor of the graph, or null when it is none of these functions or cannot be read as one. */
export function reshapingCall(exec: Reader, q: string, written: string, call: Node): Value | null {
  const expand = EXPAND_DIMS.has(q);
  const tile = TILE.has(q);
  const resize = RESIZE.get(q);
  if (!expand && !tile && !resize && !REPEAT.has(q)) return null;
  const args = callArgs(call);
  const inputNode = args.positional[0] ?? args.keywords.get('x') ?? args.keywords.get('input');
  const input = inputNode ? exec.evalExpr(inputNode) : null;
  if (input?.t !== 'tensor' || input.producers.length !== 1) return null;
  const source = input.producers[0]!;
  const number = (node: Node | undefined): number | undefined => {
    const v = node ? exec.constOf(node) : undefined;
    return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
  };
  const shape = staticShape(exec, input);
  if (resize) {
    const sizeNode = args.positional[1] ?? args.keywords.get('size');
    const size = sizeNode ? exec.constOf(sizeNode) : undefined;
    const methodNode = args.keywords.get('method') ?? args.positional[2];
    const method = resize.method ?? (methodNode ? exec.constOf(methodNode) : 'bilinear');
    const aligned = exec.constOf(args.keywords.get('align_corners') ?? call) === true;
    const halfPixel = resize.halfPixel || exec.constOf(args.keywords.get('half_pixel_centers') ?? call) === true;
    if (!shape || shape.length !== 3 || !Array.isArray(size) || size.length !== 2 || !size.every((d): d is number => typeof d === 'number' && Number.isInteger(d) && d > 0)) return null;
    const sides = shape.slice(0, 2);
    const copies = sides.every((s) => s === 1);
    const wholeFactors = sides.every((s, i) => size[i]! % s === 0);
    const sampled = copies || (method === 'nearest' && wholeFactors) ? 'nearest' : method === 'bilinear' && (aligned || halfPixel) ? 'bilinear' : null;
    if (!sampled) return null;
    const layer = makeLayer({ kind: 'reshape', className: written, range: rangeOf(call), reshape: { op: 'upsampling', factors: null, size, mode: sampled, alignCorners: sampled === 'bilinear' && aligned } });
    return { t: 'tensor', producers: [exec.newNode(layer, [source], call, exec.marks)] };
  }
  if (expand) {
    const axisNode = args.positional[1] ?? args.keywords.get('axis') ?? args.keywords.get('dim');
    const axis = axisNode ? number(axisNode) : -1;
    if (axis === undefined || !shape) return null;
    const at = axis < 0 ? axis + shape.length + 2 : axis;
    if (at < 1 || at > shape.length + 1) return null;
    const target = [...shape.slice(0, at - 1), 1, ...shape.slice(at - 1)];
    const layer = makeLayer({ kind: 'reshape', className: written, range: rangeOf(call), reshape: { op: 'reshape', target } });
    return { t: 'tensor', producers: [exec.newNode(layer, [source], call, exec.marks)] };
  }
  // How many copies along each axis of the example (index 0 is the batch).
  let copies: number[] | null;
  if (tile) {
    const multiplesNode = args.positional[1] ?? args.keywords.get('multiples') ?? args.keywords.get('n') ?? args.keywords.get('repeats');
    const multiples = multiplesNode ? exec.constOf(multiplesNode) : undefined;
    copies = Array.isArray(multiples) && multiples.every((m) => typeof m === 'number' && Number.isInteger(m) && m >= 1) ? (multiples as number[]) : null;
  } else {
    const rep = number(args.positional[1] ?? args.keywords.get('rep') ?? args.keywords.get('repeats'));
    const axis = number(args.positional[2] ?? args.keywords.get('axis'));
    const at = axis !== undefined && shape ? (axis < 0 ? axis + shape.length + 1 : axis) : undefined;
    // Repeating each entry is tiling only along an axis of size 1.
    copies = rep !== undefined && rep >= 1 && at !== undefined && at >= 1 && shape?.[at - 1] === 1 ? Array.from({ length: shape.length + 1 }, (_, i) => (i === at ? rep : 1)) : null;
  }
  if (!copies || copies[0] !== 1 || (shape && copies.length !== shape.length + 1) || copies.some((m) => m > LIMITS.loopIterations)) return null;
  let out: GraphNode = source;
  copies.forEach((m, axis) => {
    if (m > 1) out = exec.newNode(mergeLayer('Concatenate', written, rangeOf(call), axis), Array<GraphNode>(m).fill(out), call, exec.marks);
  });
  return { t: 'tensor', producers: [out] };
}
