/**
 * Models a file passes to functions that other files of the project define: `workflow(lstm_model)`
 * after `from workflow import workflow` and `lstm_model = LSTMModel()`. The function's file records the
 * training it gives its parameter (ExternalTraining with PARAMETER_MODULE); the linker joins the two.
 */
import type { Node } from '../../python/syntax-tree';
import type { ModelIR } from '../../../shared/ir';
import type { PyFile } from '../../python/file';
import { callArguments, calleeName } from '../../python/syntax';
import { PARAMETER_MODULE, UNBOUND_NAME_MODULE, type ModelPass } from '../types';
import { callsNamed, escapeRegExp } from './flow';
import { LIBRARIES, ModelResolver } from './model-refs';

/** The calls of names the file imports from modules of the project (not from known libraries). */
function projectCalls(file: PyFile): Node[] {
  const calls: Node[] = [];
  const seen = new Set<string>();
  for (const b of file.imports.bindings) {
    if (b.symbol === '*' || seen.has(b.local)) continue;
    seen.add(b.local);
    if (!b.module.startsWith('.') && LIBRARIES.has(b.module.split('.')[0]!)) continue;
    if (b.symbol !== null) {
      calls.push(...callsNamed(file.root, b.local));
      continue;
    }
    // `import workflow as wf` ... `wf.train(model)`.
    const dotted = new Set([...file.text.matchAll(new RegExp(`(?<![\\w.])${escapeRegExp(b.local)}(?:\\.\\w+)+(?=\\s*\\()`, 'g'))].map((m) => m[0]));
    for (const name of dotted) calls.push(...callsNamed(file.root, name));
  }
  return calls;
}

export function modelPasses(file: PyFile, models: readonly ModelIR[]): ModelPass[] {
  const calls = projectCalls(file);
  if (calls.length === 0) return [];
  const resolver = new ModelResolver(file, models);
  const passes: ModelPass[] = [];
  for (const call of calls) {
    const callee = calleeName(call);
    const target = callee ? resolver.importedSymbol(callee) : null;
    if (target?.kind !== 'external') continue;
    const args = callArguments(call);
    const passed: { position: number | null; keyword: string | null; node: Node }[] = [
      ...args.positional.map((node, position) => ({ position, keyword: null, node })),
      ...[...args.keywords].map(([keyword, node]) => ({ position: null, keyword, node })),
    ];
    for (const { position, keyword, node } of passed) {
      if (node.type !== 'identifier' && node.type !== 'call') continue;
      const ref = resolver.refOf(node);
      if (!ref || ref.kind === 'other' || (ref.kind === 'external' && (ref.module === PARAMETER_MODULE || ref.module === UNBOUND_NAME_MODULE))) continue;
      const model: ModelPass['model'] = ref.kind === 'local' ? { kind: 'local', id: ref.model.id } : { kind: 'external', module: ref.module, symbol: ref.symbol, ...(ref.builtAt ? { builtAt: ref.builtAt } : {}) };
      passes.push({ module: target.module, symbol: target.symbol, position, keyword, model });
    }
  }
  return passes;
}
