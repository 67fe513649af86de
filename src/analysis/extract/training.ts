/**
 * The training pass: what trains each model. Finds Keras `compile`/`fit` calls and the optimizer
 * that reaches `compile`, PyTorch optimizers and the model whose parameters they update, training
 * loops (gradient, clipping, update), losses and data sources, and attaches them to the file's own
 * models. Facts about models the file imports (`from model import Net`) are returned as
 * ExternalTraining for src/analysis/link.ts to merge across files.
 *
 * A fact is attached only when the model it belongs to is known: the receiver of `compile`/`fit`,
 * the model whose parameters an optimizer takes, the model a loop's optimizer steps. When a loop's
 * optimizer cannot be traced and the file defines exactly one model and has exactly one loop, the
 * loop is that model's (the common single-script case). Otherwise nothing is attached.
 */
import { usedWholeFileFact } from './file-wide';
import type { Node } from '../python/syntax-tree';
import type { Location, LossIR, ModelIR, OptimizerIR, TrainingIR, TrainingLoopIR } from '../../shared/ir';
import { emptyTraining } from '../../shared/ir';
import type { PyFile } from '../python/file';
import { canonicalQualified } from '../python/imports';
import { assumeFrameworkNames } from './assumed-imports';
import { argument, callArguments, descendantsOfType, namedChildren, rangeOf, requiredField, stringValue, unparen } from '../python/syntax';
import type { ExternalTraining, TrainingExtractor } from './types';
import { callsNamed, callsWithLastName, numberAt, originOf, originsOf, returnedPart, returnedValues } from './training/flow';
import { ModelResolver, refKey, type KnownRef, type ModelRef } from './training/model-refs';
import { OPTIMIZER_CLASS_PATTERN, constructedOptimizer, kerasDefaultOptimizer, optimizerClass, stringOptimizer } from './training/optimizers';
import { findLoops, FIT_METHODS, lossCallsOf, type LoopSite } from './training/loops';
import { lossFromQualified, lossFromString, sameLoss, withLoss } from './training/losses';
import { findDataSources } from './training/data-sources';
import { mergeTraining } from './training/merge';
import { rethrowCancellation, throwIfCancelled } from '../cancellation';
import { lineStarts } from '../rules/helpers/text-offsets';


/** Training facts gathered per model (own or imported), in first-seen order. */
class TrainingTable {
  private readonly entries = new Map<string, { ref: KnownRef; training: TrainingIR }>();

  get(ref: KnownRef): TrainingIR {
    const key = refKey(ref);
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { ref, training: emptyTraining() }));
    return entry.training;
  }

  refs(): KnownRef[] {
    return [...this.entries.values()].map((e) => e.ref);
  }

  all(): { ref: KnownRef; training: TrainingIR }[] {
    return [...this.entries.values()];
  }
}

/** Optimizer constructor calls of the file, parsed once, by node position. */
class OptimizerIndex {
  private readonly byStart = new Map<number, { ir: OptimizerIR; call: Node }>();

  constructor(
    private readonly file: PyFile,
    private readonly resolver: ModelResolver,
  ) {
    const starModule = starImportedOptimizers(file.text);
    for (const call of callsWithLastName(file.root, OPTIMIZER_CLASS_PATTERN)) {
      const fn = requiredField(call, 'function');
      let cls = optimizerClass(resolver.resolve(fn));
      // `from keras.optimizers import *` then `Adam(...)`: a bare name nothing else binds.
      if (!cls && starModule && fn.type === 'identifier' && !file.imports.has(fn.text)) cls = optimizerClass(`${starModule}.${fn.text}`);
      if (cls) this.byStart.set(call.startIndex, { ir: constructedOptimizer(call, cls.framework, cls.className, file.path, resolver.resolve), call });
    }
  }

  /** The optimizer an expression evaluates to (a constructor or, for Keras, a string); null when unknown. */
  of(expr: Node): { ir: OptimizerIR; call: Node | null } | null {
    const origin = originOf(expr, this.resolver.resolve);
    return origin ? this.at(expr, origin) : null;
  }

  /**
   * Every optimizer `expr` may be: of's one, or for a parameter of a training function its calls pass
   * different optimizers (`fit(lstm, opt_a)`, `fit(gru, opt_b)`), each call's; null when one is unknown.
   */
  allOf(expr: Node): { ir: OptimizerIR; call: Node | null }[] | null {
    const origins = originsOf(expr, this.resolver.resolve);
    if (!origins) return null;
    const found = origins.map((origin) => this.at(expr, origin));
    return found.every((o) => o !== null) ? found : null;
  }

  /** The optimizer made at `origin` (where `expr` comes from). */
  private at(expr: Node, origin: Node): { ir: OptimizerIR; call: Node | null } | null {
    if (origin.type === 'string') {
      const ir = stringOptimizer(origin, this.file.path);
      return ir ? { ir, call: null } : null;
    }
    const found = this.byStart.get(origin.startIndex) ?? this.returnedBy(origin);
    if (found && expr.type === 'identifier' && setsClippingLater(this.file.wholeText, expr.text)) {
      usedWholeFileFact(this.file, `'${expr.text}.clipnorm = ...' somewhere in the file`);
      // `opt.clipnorm = 1.0` after construction: clipping is set, with a value we do not track.
      return { ir: { ...found.ir, unresolved: [...(found.ir.unresolved ?? []), 'clipnorm'] }, call: found.call };
    }
    return found;
  }

  /** `optimizer=make_optimizer()` (a GAN script's shared Adam(2e-4, 0.5)): the optimizer a function of the file makes and returns. */
  private returnedBy(origin: Node): { ir: OptimizerIR; call: Node | null } | null {
    if (origin.type !== 'call') return null;
    const returned = returnedPart(origin, undefined);
    const made = returned ? originOf(returned, this.resolver.resolve) : null;
    return made ? (this.byStart.get(made.startIndex) ?? null) : null;
  }

  /**
   * true / false / null: whether an expression is known to be an optimizer, known not to be one
   * (a learning-rate scheduler, a gradient scaler, a literal), or unknown (e.g. built by
   * `getattr(optim, name)(...)` or a project helper).
   */
  isOptimizer(expr: Node): boolean | null {
    const origin = originOf(expr, this.resolver.resolve);
    if (!origin || origin.type === 'identifier' || origin.type === 'attribute' || origin.type === 'subscript') return null;
    if (this.byStart.has(origin.startIndex)) return true;
    if (origin.type !== 'call') return false;
    const callee = this.resolver.resolve(requiredField(origin, 'function')) ?? '';
    return /sched|scaler|warmup/i.test(callee) ? false : null;
  }

  torchOptimizers(): { ir: OptimizerIR; call: Node }[] {
    return [...this.byStart.values()].filter((o) => this.file.imports.resolveNode(o.call.childForFieldName('function'))?.startsWith('torch.'));
  }
}

/** The optimizers module a file star-imports (`from keras.optimizers import *`), canonicalized; null when none. */
function starImportedOptimizers(text: string): string | null {
  const m = /^[ \t]*from[ \t]+((?:tensorflow\.)?keras\.optimizers|torch\.optim)[ \t]+import[ \t]+\*/m.exec(text);
  return m ? canonicalQualified(m[1]!) : null;
}

/** A failed collector is reported once, on the file's first model, as something not understood. */
function noteFailure(models: ModelIR[], what: string, err: unknown): void {
  const first = models[0];
  if (first) first.unsupported.push({ what: `reading the training code (${what}: ${err instanceof Error ? err.message : String(err)})`, range: first.nameRange });
}

/** `opt.clipnorm = ...` / `opt.global_clipnorm = ...` / `opt.clipvalue = ...` anywhere in the file. */
function setsClippingLater(text: string, name: string): boolean {
  // Asked per optimizer: a file that sets no clipping attribute at all is not searched once per optimizer.
  if (!mentionsClippingAttribute(text)) return false;
  return new RegExp(`(?<![\\w.])${name}\\.(clipnorm|clipvalue|global_clipnorm)\\s*=[^=]`).test(text);
}

/** The text setsClippingLater searched last, and whether it writes `.clipnorm`, `.clipvalue` or `.global_clipnorm` anywhere. */
let clippingText: { text: string; mentions: boolean } | null = null;

function mentionsClippingAttribute(text: string): boolean {
  if (clippingText?.text !== text) clippingText = { text, mentions: /\.(clipnorm|clipvalue|global_clipnorm)\s*=[^=]/.test(text) };
  return clippingText.mentions;
}

/** Packages without which a file can hold no training facts (optimizers, compile, loops, loaders). */
const ML_PACKAGES = ['torch', 'tensorflow', 'keras', 'tf_keras', 'torchvision', 'lightning', 'pytorch_lightning', 'accelerate'];

export const extractTraining: TrainingExtractor = (file: PyFile, models: ModelIR[]): ExternalTraining[] => {
  assumeFrameworkNames(file);
  if (models.length === 0 && !ML_PACKAGES.some((p) => file.imports.importsPackage(p))) return [];
  const resolver = new ModelResolver(file, models);
  let optimizers: OptimizerIndex;
  try {
    optimizers = new OptimizerIndex(file, resolver);
  } catch (err) {
    noteFailure(models, 'optimizers', err);
    return [];
  }
  const table = new TrainingTable();

  // Each collector is guarded: a construct one of them trips on costs its facts, not the file's models.
  const phases: [string, () => void][] = [
    ['compile/fit', () => { collectKerasCalls(file, resolver, optimizers, table); }],
    [
      'optimizers',
      () => {
        for (const { ir, call } of optimizers.torchOptimizers()) {
          const params = argument(callArguments(call), 0, 'params');
          // An optimizer over several models is recorded once (on the first), so its rate is reported once.
          const first = params ? resolver.modelsOfParameters(params).known[0] : undefined;
          if (first) table.get(first).optimizer ??= ir;
        }
      },
    ],
    ['training loops', () => { collectLoops(file, resolver, optimizers, models, table); }],
    ['Lightning trainers', () => { collectLightningFits(file, resolver, table); }],
    ['Lightning training steps', () => { collectTrainingStepLosses(file, resolver, models, table); }],
    ['data sources', () => { findDataSources(file, resolver, table); }],
  ];
  for (const [what, run] of phases) {
    throwIfCancelled();
    try {
      run();
    } catch (err) {
      rethrowCancellation(err);
      noteFailure(models, what, err);
    }
  }

  const external: ExternalTraining[] = [];
  for (const { ref, training } of table.all()) {
    if (ref.kind === 'local') mergeTraining(ref.model.training, training);
    else external.push({ module: ref.module, symbol: ref.symbol, ...(ref.parameter ? { parameter: ref.parameter } : {}), ...(ref.builtAt ? { builtAt: ref.builtAt } : {}), training });
  }
  return external;
};

/** Keras calls that use a model for inference: its predictions, or weights trained elsewhere loaded into it. */
const INFERENCE_METHODS: ReadonlySet<string> = new Set(['predict', 'predict_on_batch', 'predict_generator', 'load_weights']);

/** `model.compile(optimizer=..., loss=...)`, `model.fit(...)` and `model.predict(...)`; the first compile of a model wins. */
function collectKerasCalls(file: PyFile, resolver: ModelResolver, optimizers: OptimizerIndex, table: TrainingTable): void {
  const usesKeras = ['keras', 'tensorflow', 'tf_keras'].some((p) => file.imports.importsPackage(p));
  for (const call of callsWithLastName(file.root, `compile|${[...FIT_METHODS, ...INFERENCE_METHODS].join('|')}`)) {
    const fn = call.childForFieldName('function');
    if (fn?.type !== 'attribute') continue;
    const method = fn.childForFieldName('attribute')?.text ?? '';
    if (method !== 'compile' && !FIT_METHODS.has(method) && !INFERENCE_METHODS.has(method)) continue;
    const receiver = fn.childForFieldName('object');
    // `def fit_model(m): m.compile(...)` called with several models compiles each.
    for (const ref of (receiver ? resolver.refsOf(receiver) : null) ?? []) kerasCall(call, method, ref);
  }

  function kerasCall(call: Node, method: string, ref: KnownRef): void {
    // `model.compile()` on a torch nn.Module is torch.compile in place, not a Keras compile.
    if (ref.kind === 'local' ? ref.model.framework !== 'keras' : !usesKeras) return;
    const training = table.get(ref);
    const location = { file: file.path, range: rangeOf(call) };
    if (method === 'compile') {
      if (training.compile) return;
      training.compile = location;
      const args = callArguments(call);
      const optNode = argument(args, 0, 'optimizer');
      if (optNode) training.optimizer = optimizers.of(optNode)?.ir ?? null;
      else if (args.splats.length === 0) training.optimizer = kerasDefaultOptimizer(call, file.path);
      const lossNode = argument(args, 1, 'loss');
      if (lossNode) training.losses = compiledLosses(lossNode, resolver, file.path);
    } else if (FIT_METHODS.has(method)) {
      training.fit ??= location;
    } else {
      training.predict ??= location;
    }
  }
}

/**
 * The losses compile's `loss=` names: one for every output, one per output in a list (in the outputs'
 * order, which the IR does not keep: each goes to the output its kind suits, see shared/losses.ts), or
 * one per output name in a dict.
 */
function compiledLosses(node: Node, resolver: ModelResolver, path: string): LossIR[] {
  const value = unparen(node);
  const at = (n: Node): Location => ({ file: path, range: rangeOf(n) });
  if (value.type === 'list' || value.type === 'tuple') return namedChildren(value).reduce<LossIR[]>((list, item) => withLoss(list, lossOf(item, resolver, at(item))), []);
  if (value.type === 'dictionary') {
    return namedChildren(value).reduce<LossIR[]>((list, pair) => {
      const key = pair.type === 'pair' ? stringValue(pair.childForFieldName('key')) : null;
      const item = pair.type === 'pair' ? pair.childForFieldName('value') : null;
      const loss = item ? lossOf(item, resolver, at(item)) : null;
      return withLoss(list, loss && key !== null ? { ...loss, output: key } : loss);
    }, []);
  }
  const loss = lossOf(node, resolver, at(node));
  return loss ? [loss] : [];
}

function lossOf(node: Node, resolver: ModelResolver, at: Location): LossIR | null {
  const origin = originOf(node, resolver.resolve) ?? node;
  if (origin.type === 'string') return lossFromString(origin, at);
  const callee = origin.type === 'call' ? origin.childForFieldName('function') : origin;
  // `SparseCategoricalCrossentropy(from_logits=True)`: a flag written as a literal.
  const flag = origin.type === 'call' ? callArguments(origin).keywords.get('from_logits')?.text : undefined;
  return lossFromQualified(callee ? resolver.resolve(callee) : null, at, flag === 'True' ? true : flag === 'False' ? false : null);
}

/** A loss a loop computes, the model whose output it reads (null when unknown), and an activation its call applies to that output first. */
interface LoopLoss {
  loss: LossIR;
  reads: ModelRef | null;
  applied: LossIR['appliedFirst'];
}

/** The known losses among the loss calls a loss expression adds up (lossCallsOf), each with the model whose output it reads. */
function lossesOf(lossExpr: Node, resolver: ModelResolver, path: string): LoopLoss[] {
  const losses: LoopLoss[] = [];
  for (const { call, criterion } of lossCallsOf(lossExpr, resolver.resolve)) {
    const qualified = resolver.resolve(requiredField(criterion, 'function'));
    const loss = lossFromQualified(qualified, { file: path, range: rangeOf(criterion) });
    if (!loss) continue;
    // torch's losses read the prediction first (input, target); Keras' second (y_true, y_pred).
    const args = callArguments(call);
    const prediction = qualified?.startsWith('keras.') ? (args.keywords.get('y_pred') ?? args.positional[1]) : (args.keywords.get('input') ?? args.positional[0]);
    const read = prediction ? resolver.outputRead(prediction) : null;
    const applied = read?.applied ? { name: read.applied.name, at: { file: path, range: rangeOf(read.applied.node) } } : null;
    losses.push({ loss, reads: read?.ref ?? null, applied });
  }
  return losses;
}

/** The losses of a loop as they train `ref`: each says whether it reads that model's own output (a generator's reads its discriminator's). */
function lossesFor(ref: KnownRef, losses: readonly LoopLoss[]): LossIR[] {
  return losses.reduce<LossIR[]>((list, { loss, reads, applied }) => {
    const onOutput = reads === null ? null : reads.kind !== 'other' && refKey(reads) === refKey(ref);
    return withLoss(list, { ...loss, onOutput, appliedFirst: onOutput === true ? applied : null });
  }, []);
}

/** Loops, attributed through the optimizer they step (or the variables a TF loop updates). */
function collectLoops(file: PyFile, resolver: ModelResolver, optimizers: OptimizerIndex, models: ModelIR[], table: TrainingTable): void {
  const sites = findLoops(file.root, file.path, resolver.resolve, (e) => optimizers.isOptimizer(e));
  const unattributed: { site: LoopSite; loop: TrainingLoopIR; losses: LoopLoss[] }[] = [];
  let attributed = 0;
  for (const site of sites) {
    const losses = site.lossExpr ? lossesOf(site.lossExpr, resolver, file.path) : [];
    const each = !site.variablesExpr && site.optimizerExpr ? optimizers.allOf(site.optimizerExpr) : null;
    if (each && each.length > 1) {
      // One training function called with each model's own optimizer (`fit(lstm, opt_a)`, `fit(gru, opt_b)`):
      // the loop trains each model its optimizer steps.
      let known = 0;
      for (const optimizer of each) {
        const params = optimizer.call ? argument(callArguments(optimizer.call), 0, 'params') : null;
        const trains = params ? resolver.modelsOfParameters(params) : null;
        const loop: TrainingLoopIR = { ...site.ir, optimizer: optimizer.ir };
        trains?.known.forEach((ref, i) => { attach(table.get(ref), i === 0 ? loop : { ...loop, optimizer: null }, lossesFor(ref, losses)); });
        known += trains?.known.length ?? 0;
      }
      if (known > 0) {
        attributed++;
        continue;
      }
    }
    const optimizer = site.optimizerExpr ? optimizers.of(site.optimizerExpr) : null;
    const loop: TrainingLoopIR = { ...site.ir, optimizer: optimizer?.ir ?? null };
    let trains: { known: KnownRef[]; unknown: boolean } = { known: [], unknown: true };
    if (site.variablesExpr) trains = resolver.modelsOfParameters(site.variablesExpr);
    if (trains.known.length === 0 && optimizer?.call) {
      const params = argument(callArguments(optimizer.call), 0, 'params');
      if (params) trains = resolver.modelsOfParameters(params);
    }
    // An optimizer over several models (`list(enc.parameters()) + list(dec.parameters())`) trains each;
    // the optimizer itself stays with the first, so its facts are reported once.
    trains.known.forEach((ref, i) => { attach(table.get(ref), i === 0 ? loop : { ...loop, optimizer: null }, lossesFor(ref, losses)); });
    if (trains.known.length > 0) attributed++;
    else if (trains.unknown) unattributed.push({ site, loop, losses });
  }
  // Whether a loop no model is named in goes to the file's only model depends on the whole file.
  if (unattributed.length > 0) usedWholeFileFact(file, 'a training loop that names no model');
  // One model, one loop, nothing else trained here: the loop can only be that model's.
  if (
    models.length === 1 &&
    sites.length === 1 &&
    unattributed.length === 1 &&
    attributed === 0 &&
    table.refs().every((r) => r.kind === 'local') &&
    isUsedInFile(models[0]!, file)
  ) {
    const only = unattributed[0]!;
    const ref: KnownRef = { kind: 'local', model: models[0]! };
    attach(table.get(ref), only.loop, lossesFor(ref, only.losses));
  }
}

/** Lightning's Trainer class, as imports resolve it. */
const LIGHTNING_TRAINER = /^(?:pytorch_lightning|lightning\.pytorch|lightning)(?:\.trainer(?:\.trainer)?)?\.Trainer$/;

/**
 * `trainer.fit(model, ...)` with `trainer = pl.Trainer(...)`: Lightning runs backward and the optimizer
 * step itself, clipping only with `gradient_clip_val=` (by norm unless `gradient_clip_algorithm="value"`).
 * Recorded as the model's loop, at the Trainer call where the clipping is written.
 */
function collectLightningFits(file: PyFile, resolver: ModelResolver, table: TrainingTable): void {
  if (!['pytorch_lightning', 'lightning'].some((p) => file.imports.importsPackage(p))) return;
  for (const fit of callsWithLastName(file.root, 'fit')) {
    const fn = fit.childForFieldName('function');
    const receiver = fn?.type === 'attribute' ? fn.childForFieldName('object') : null;
    const made = receiver ? originOf(receiver, resolver.resolve) : null;
    const callee = made?.type === 'call' ? made.childForFieldName('function') : null;
    if (!made || !callee || !LIGHTNING_TRAINER.test(resolver.resolve(callee) ?? '')) continue;
    const modelArg = argument(callArguments(fit), 0, 'model');
    if (!modelArg) continue;
    const args = callArguments(made);
    const clipArg = args.keywords.get('gradient_clip_val');
    // A splat may carry gradient_clip_val: what it does is unknown, and then nothing is assumed.
    if (!clipArg && args.splats.length > 0) continue;
    const threshold = clipArg ? numberAt(clipArg, resolver.resolve) : undefined;
    const noClip = !clipArg || clipArg.text === 'None' || threshold === 0;
    const algorithm = args.keywords.get('gradient_clip_algorithm');
    const kind = algorithm && /^['"]value['"]$/.test(algorithm.text) ? 'value' : 'norm';
    const loop: TrainingLoopIR = {
      file: file.path,
      backward: rangeOf(fit),
      step: rangeOf(made),
      clip: noClip ? null : { kind, range: rangeOf(clipArg), threshold: threshold !== undefined && Number.isFinite(threshold) && threshold > 0 ? threshold : null },
      optimizer: null,
      trainer: true,
    };
    for (const ref of resolver.refsOf(modelArg) ?? []) attach(table.get(ref), loop, []);
  }
}

/**
 * A LightningModule's loss is what its `training_step` returns (`return loss`, `return {"loss": loss}`):
 * Lightning calls backward on it. Read for each model class of the file that defines one.
 */
function collectTrainingStepLosses(file: PyFile, resolver: ModelResolver, models: ModelIR[], table: TrainingTable): void {
  if (!['pytorch_lightning', 'lightning'].some((p) => file.imports.importsPackage(p))) return;
  for (const cls of descendantsOfType(file.root, 'class_definition')) {
    const name = cls.childForFieldName('name')?.text;
    const model = name ? models.find((m) => m.name === name || m.exports.includes(name)) : undefined;
    const step = namedChildren(cls.childForFieldName('body') ?? cls).map((n) => (n.type === 'decorated_definition' ? n.childForFieldName('definition') : n)).find((n) => n?.type === 'function_definition' && n.childForFieldName('name')?.text === 'training_step');
    if (!model || !step) continue;
    const losses = returnedValues(step).map((value) => {
      // `return {"loss": loss, "log": ...}`: the entry Lightning backpropagates.
      const entry = value?.type === 'dictionary' ? namedChildren(value).find((pair) => /^['"]loss['"]$/.test(pair.childForFieldName('key')?.text ?? '')) : null;
      const returned = entry ? entry.childForFieldName('value') : value;
      return returned ? lossesFor({ kind: 'local', model }, lossesOf(returned, resolver, file.path)) : [];
    });
    // Every return computes the same losses: those are what the model trains on.
    const first = losses[0];
    const same = (a: LossIR[], b: LossIR[]) => a.length === b.length && a.every((l, i) => sameLoss(l, b[i]!));
    const training = table.get({ kind: 'local', model });
    if (first && first.length > 0 && losses.every((l) => same(l, first)) && training.losses.length === 0) training.losses = first;
  }
}

/**
 * The model is instantiated or used in its file (`Net(...)`, `build_model(...)`, or its variable read
 * after the definition): a helper module defined next to a loop that trains an imported model is not.
 */
function isUsedInFile(model: ModelIR, file: PyFile): boolean {
  if (model.exports.some((name) => callsNamed(file.root, name).length > 0)) return true;
  const after = lineStarts(file.text)[model.range.end.line + 1];
  const lines = after === undefined ? '' : file.text.slice(after);
  return new RegExp(`(?<![\\w.])${model.name.replace(/[^\w]/g, '')}(?!\\w)`).test(lines) && /^\w+$/.test(model.name);
}

/** A loop trains the model on its losses too: InfoGAN's discriminator learns from its adversarial loop and from its information loop. */
function attach(training: TrainingIR, loop: TrainingLoopIR, losses: LossIR[]): void {
  training.loops.push(loop);
  training.optimizer ??= loop.optimizer;
  training.losses = losses.reduce(withLoss, training.losses);
}
