/**
 * scanFileLinks (check --jobs groups files with it before any parse) must read every link fileLinks
 * reads from the tree — on every example and fixture of the repository — and the import and attribute
 * spellings a line regex would miss; it must not read a class's `self.x = ...` as a link (every
 * PyTorch file would then join every other).
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fileLinks } from '../../../src/analysis/file-links';
import { scanFileLinks } from '../../../src/analysis/scan-links';
import { createPythonParser } from '../../../src/analysis/python/parser';
import { collectInputs } from '../../../src/cli/inputs';
import { readInput } from '../../../src/cli/read-source';
import { REPO_ROOT } from '../cli/run-cli';

describe('scanFileLinks', () => {
  it('reads every module and attribute fileLinks reads, on the examples and fixtures', async () => {
    const parser = await createPythonParser();
    const inputs = collectInputs(['examples', 'test/fixtures', 'test/lsp/fixtures'].map((p) => join(REPO_ROOT, p)));
    expect(inputs.files.length).toBeGreaterThan(100);
    let linked = 0;
    for (const path of inputs.files) {
      const source = readInput(path);
      if (source.error !== null) continue;
      const parsed = fileLinks(parser, path, source.text);
      const scanned = scanFileLinks(path, source.text);
      expect({ path, missing: parsed.modules.filter((m) => !scanned.modules.includes(m)) }).toEqual({ path, missing: [] });
      expect({ path, missing: parsed.assigns.filter((a) => !scanned.assigns.includes(a)) }).toEqual({ path, missing: [] });
      if (parsed.assigns.length > 0) linked++;
    }
    // The fixtures hold attribute writes, so the second check compared something.
    expect(linked).toBeGreaterThan(0);
    parser.delete();
  });

  it('reads imports split over lines, in blocks, relative, aliased and star', () => {
    const text = [
      'from .nets.lstm import (',
      '    Tagger,',
      '    Scorer,',
      ')',
      'from .. import common',
      'from \\',
      '    models.heads import Head',
      'try: import fast_ops as ops, utils.io',
      'except ImportError: pass',
      'def build():',
      '    from pkg.blocks import *',
      '    import layers_local',
    ].join('\n');
    const { modules } = scanFileLinks('/p/train.py', text);
    for (const m of ['.nets.lstm', '..', 'models.heads', 'fast_ops', 'utils.io', 'utils', 'pkg.blocks', 'layers_local']) expect(modules).toContain(m);
    // What `from m import x` lists may be modules too (`from .. import common` ... `common.build()`).
    for (const m of ['.nets.lstm.Tagger', '.nets.lstm.Scorer', '..common', 'models.heads.Head']) expect(modules).toContain(m);
  });

  it('reads a dict handed to a top-level function\'s parameter, also mid-line and through a name', () => {
    const text = ['def my_model(args, width=64):', '    config = dict(width=width)', '    args.config = config', '    if args.extra is None: args.extra = {"a": 1}', '', 'def other(ns):', '    ns.table = (', '        {"k": 1})'].join('\n');
    expect(scanFileLinks('/p/cfg.py', text).assigns.sort()).toEqual(['config', 'extra', 'table']);
  });

  it('reads no link from a class\'s own attributes or from values that are not dicts', () => {
    const text = ['class Net(nn.Module):', '    def __init__(self, hidden):', '        self.hidden = hidden', '        self.config = {}', '', 'def train(args):', '    args.device = torch.device("cpu")', '    args.lr = 0.1', '    args.seen == 2'].join('\n');
    expect(scanFileLinks('/p/net.py', text).assigns).toEqual([]);
  });
});
