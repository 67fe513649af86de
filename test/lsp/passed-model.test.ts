/**
 * A model passed to a function of another file, through the server's workspace index (incremental,
 * read by statement groups): sales_run.py passes SalesForecaster() to run_workflow(net), which
 * compiles it without clipping in sales_workflow.py. Only the workflow is opened; run.py is read
 * from disk, and an edit there that stops passing the model takes the findings away.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { codes, fileUri, startOnCopy, type LspSession } from './harness';
import { defined } from '../defined';

let session: LspSession;
let folder: string;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ session, folder, stop } = await startOnCopy(join(__dirname, '../fixtures/constructs/passed_model'), 'sales'));
});
afterAll(() => stop());

const read = (name: string) => readFileSync(join(folder, name), 'utf8');

describe('a model passed to a function of another file (workspace index)', () => {
  it('reports GL401 on the workflow\'s compile and on the model\'s GRU', async () => {
    const workflowUri = fileUri(join(folder, 'sales_workflow.py'));
    await session.open(workflowUri, read('sales_workflow.py'));
    const inWorkflow = await session.diagnosticsWhere(workflowUri, (d) => codes(d).includes('GL401'), 'GL401 on the compile');
    expect(defined(inWorkflow.find((d) => d.code === 'GL401')).range.start.line).toBe(10);
    const modelUri = fileUri(join(folder, 'sales_model.py'));
    await session.open(modelUri, read('sales_model.py'));
    const inModel = await session.diagnosticsWhere(modelUri, (d) => codes(d).includes('GL401'), 'GL401 on the GRU');
    expect(defined(inModel.find((d) => d.code === 'GL401')).range.start.line).toBe(7);
  });

  it('drops them when run.py stops passing the model', async () => {
    const workflowUri = fileUri(join(folder, 'sales_workflow.py'));
    writeFileSync(join(folder, 'sales_run.py'), read('sales_run.py').replace('run_workflow(forecaster, series)', 'run_workflow(None, series)'));
    await session.filesChanged([{ path: join(folder, 'sales_run.py'), type: 'changed' }]);
    await session.diagnosticsWhere(workflowUri, (d) => !codes(d).includes('GL401'), 'GL401 gone');
  });
});
