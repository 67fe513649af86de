/**
 * The workspace index over real JSON-RPC: a model defined in models.py and trained (without clipping)
 * in train.py, which is never opened: the server reads it from disk, and keeps up with edits to it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { codes, fileUri, FIXTURES, positionOf, startOnCopy, type LspSession } from './harness';
import { defined } from '../defined';

let session: LspSession;
let folder: string;
const CLIP = '            optimizer.step()';
const CLIPPED = '            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)\n            optimizer.step()';

let stop: () => Promise<void>;

beforeAll(async () => {
  ({ session, folder, stop } = await startOnCopy(join(FIXTURES, 'workspace'), 'sentiment'));
});
afterAll(() => stop());

const read = (name: string) => readFileSync(join(folder, name), 'utf8');

describe('workspace index', () => {
  it('finds the training loop of an imported model in a file that is not open', async () => {
    const uri = fileUri(join(folder, 'models.py'));
    await session.open(uri, read('models.py'));
    const diagnostics = await session.diagnosticsWhere(uri, (d) => codes(d).includes('GL401'), 'GL401 from train.py');
    const gl401 = defined(diagnostics.find((d) => d.code === 'GL401'));
    expect(gl401.range.start.line).toBe(positionOf(read('models.py'), 'nn.LSTM').line);
    expect(gl401.message).toContain('train.py');
    const trainUri = fileUri(join(folder, 'train.py'));
    expect(gl401.relatedInformation?.some((r) => r.location.uri === trainUri)).toBe(true);
    expect((await session.status()).indexedFiles).toBeGreaterThanOrEqual(2);
  });

  it('keeps the index current when train.py changes on disk', async () => {
    const uri = fileUri(join(folder, 'models.py'));
    writeFileSync(join(folder, 'train.py'), read('train.py').replace(CLIP, CLIPPED));
    await session.filesChanged([{ path: join(folder, 'train.py'), type: 'changed' }]);
    await session.diagnosticsWhere(uri, (d) => !codes(d).includes('GL401'), 'GL401 gone after clipping was added');

    writeFileSync(join(folder, 'train.py'), read('train.py').replace(CLIPPED, CLIP));
    await session.filesChanged([{ path: join(folder, 'train.py'), type: 'changed' }]);
    await session.diagnosticsWhere(uri, (d) => codes(d).includes('GL401'), 'GL401 back');
  });

  it('uses the editor\'s unsaved text of an open file over the disk, and the disk again once it closes', async () => {
    const modelsUri = fileUri(join(folder, 'models.py'));
    const trainUri = fileUri(join(folder, 'train.py'));
    const onDisk = read('train.py');
    await session.open(trainUri, onDisk);
    await session.change(trainUri, onDisk.replace(CLIP, CLIPPED));
    await session.diagnosticsWhere(modelsUri, (d) => !codes(d).includes('GL401'), 'GL401 gone with the unsaved clipping');
    await session.close(trainUri);
    await session.diagnosticsWhere(modelsUri, (d) => codes(d).includes('GL401'), 'GL401 back from the disk text');
  });

  it('forgets a deleted file', async () => {
    const uri = fileUri(join(folder, 'models.py'));
    rmSync(join(folder, 'train.py'));
    await session.filesChanged([{ path: join(folder, 'train.py'), type: 'deleted' }]);
    await session.diagnosticsWhere(uri, (d) => !codes(d).includes('GL401'), 'GL401 gone with train.py');
  });
});
