/**
 * Classes a model uses that come from another module (`from mypkg.blocks import ConvBlock, Head`,
 * then `self.b1 = ConvBlock(ch, 32)` in an nn.Module): their layers are whatever that module says.
 * When the module is part of the analyzed files the linker can say so; when it is not, the reader
 * is told which classes were not analyzed (the project decides, see project.ts). Nothing is ever
 * invented for them: they stay unknown layers.
 */
import type { Node } from '../python/syntax-tree';
import type { Range } from '../../shared/ir';
import type { PyFile } from '../python/file';
import { calleeName, enclosing } from '../python/syntax';
import { callsNamed } from './training/flow';

export interface OutsideClasses {
  /** The module as written in the import ("mypkg.blocks", ".blocks"). */
  module: string;
  /** Imported class names the file's model code calls, in import order. */
  symbols: string[];
  /** The import statement. */
  range: Range;
}

/** Packages whose classes the extractors read (or report) themselves. */
const FRAMEWORK_ROOTS = new Set(['torch', 'keras', 'tensorflow', 'tf_keras', 'tf']);
/** Containers whose arguments are a model's layers. */
const LAYER_CONTAINERS = /^(?:torch\.nn\.(?:Sequential|ModuleList|ModuleDict)|keras(?:\.models)?\.Sequential)$/;

/**
 * Whether `call` makes a layer of a model: applied at once (`Block(32)(x)`), an attribute of a
 * framework module/model class that the class calls (`self.b1 = Block(...)` ... `self.b1(x)`), or an
 * element of a layer container / `.add(...)`. A config object made in `__init__` is none of these.
 */
function inModelCode(file: PyFile, call: Node): boolean {
  if (call.parent?.type === 'call' && call.parent.childForFieldName('function')?.id === call.id) return true;
  const cls = enclosing(call, ['class_definition']);
  const bases = cls?.childForFieldName('superclasses');
  const assigned = call.parent?.type === 'assignment' ? call.parent.childForFieldName('left') : null;
  if (
    cls &&
    assigned?.type === 'attribute' &&
    assigned.childForFieldName('object')?.text === 'self' &&
    bases?.namedChildren.some((b) => /^(?:torch|keras)\./.test(file.imports.resolve(b.text))) &&
    new RegExp(`\\bself\\.${assigned.childForFieldName('attribute')?.text ?? ''}\\s*\\(`).test(cls.text)
  ) {
    return true;
  }
  for (let cur = call.parent; cur; cur = cur.parent) {
    if (cur.type === 'function_definition' || cur.type === 'class_definition') break;
    if (cur.type !== 'call') continue;
    const callee = calleeName(cur);
    if (!callee) continue;
    if (LAYER_CONTAINERS.test(file.imports.resolve(callee)) || callee.endsWith('.add')) return true;
  }
  return false;
}

/** Imported classes from non-framework modules that the file's model code calls, per module. */
export function outsideClasses(file: PyFile): OutsideClasses[] {
  const byModule = new Map<string, OutsideClasses>();
  for (const b of file.imports.bindings) {
    if (b.symbol === null || !/^[A-Z]/.test(b.local) || FRAMEWORK_ROOTS.has(b.module.split('.')[0]!)) continue;
    if (!callsNamed(file.root, b.local).some((call) => inModelCode(file, call))) continue;
    const entry = byModule.get(b.module) ?? { module: b.module, symbols: [], range: b.range };
    if (!entry.symbols.includes(b.local)) entry.symbols.push(b.local);
    byModule.set(b.module, entry);
  }
  return [...byModule.values()];
}
