/** The one message guard every channel uses: accepted messages pass, malformed ones are dropped and reported once. */
import { describe, expect, it } from 'vitest';
import { isFromWorker, isToWorker } from '../../src/server/analysisProtocol';
import { guardedListener } from '../../src/shared/message-guard';
import { isCallerToProbeMessage, isProbeToCallerMessage } from '../../src/shared/probe';
import { isWebviewToHostMessage } from '../../src/shared/webview-messages';

describe('guardedListener', () => {
  it('passes accepted messages on and reports only the first rejected one, naming its kind', () => {
    const handled: unknown[] = [];
    const problems: string[] = [];
    const listen = guardedListener('analysis worker', isToWorker, (m) => handled.push(m), (p) => problems.push(p));
    listen({ kind: 'analyze', id: 3, path: '/p/model.py' });
    listen({ kind: 'analyze', id: '3', path: '/p/model.py' });
    listen('not a message');
    listen({ kind: 'removeFile', path: '/p/old.py' });
    expect(handled).toEqual([
      { kind: 'analyze', id: 3, path: '/p/model.py' },
      { kind: 'removeFile', path: '/p/old.py' },
    ]);
    expect(problems).toEqual(['analysis worker: ignored a malformed message ("analyze")']);
  });

  it('stays quiet without a reporter', () => {
    const handled: unknown[] = [];
    const listen = guardedListener('panel', isWebviewToHostMessage, (m) => handled.push(m));
    listen({ type: 'reveal-layer', layerId: 'L0', line: 0 });
    listen({ type: 'ready' });
    expect(handled).toEqual([{ type: 'ready' }]);
  });
});

describe('channel guards', () => {
  it('analysis worker messages in both directions', () => {
    expect(isToWorker({ kind: 'init', roots: ['/w'], overrides: {}, maxFileBytes: 1000, cancelFlags: new SharedArrayBuffer(8) })).toBe(true);
    // The cancellation flags must be shared memory: a copied buffer would never see a cancellation.
    expect(isToWorker({ kind: 'init', roots: ['/w'], overrides: {}, maxFileBytes: 1000, cancelFlags: new ArrayBuffer(8) })).toBe(false);
    expect(isToWorker({ kind: 'init', roots: ['/w'], overrides: {}, maxFileBytes: 1000 })).toBe(false);
    expect(isToWorker({ kind: 'setFile', path: '/w/a.py', text: 'x = 1\n', edit: null })).toBe(true);
    expect(isToWorker({ kind: 'setFile', path: '/w/a.py', text: 42, edit: null })).toBe(false);
    expect(isToWorker({ kind: 'format-disk' })).toBe(false);
    expect(isFromWorker({ kind: 'log', message: 'hi' })).toBe(true);
    expect(isFromWorker({ kind: 'result', id: 1, result: { path: '/w/a.py', models: [], findings: [] }, ms: 2 })).toBe(true);
    // Models and findings the previous result held come as indices into it (moved ones as [index, rows]).
    expect(isFromWorker({ kind: 'result', id: 1, result: { path: '/w/a.py', models: [0, [1, 3]], findings: [1] }, ms: 2 })).toBe(true);
    // The models may have gone ahead of the result, in a 'models' message; the findings must be there.
    expect(isFromWorker({ kind: 'result', id: 1, result: { path: '/w/a.py', findings: [] }, ms: 2 })).toBe(true);
    expect(isFromWorker({ kind: 'result', id: 1, result: { path: '/w/a.py', models: {}, findings: [] }, ms: 2 })).toBe(false);
    expect(isFromWorker({ kind: 'result', id: 1, result: { path: '/w/a.py', models: [] }, ms: 2 })).toBe(false);
    expect(isFromWorker({ kind: 'models', id: 1, models: { path: '/w/a.py', models: [0] } })).toBe(true);
    expect(isFromWorker({ kind: 'models', id: 1, models: { path: '/w/a.py' } })).toBe(false);
    expect(isFromWorker({ kind: 'models', id: 1, models: [0] })).toBe(false);
    expect(isFromWorker({ kind: 'result', id: 1, ms: 2 })).toBe(false);
    expect(isFromWorker({ kind: 'started', id: 3 })).toBe(true);
    expect(isFromWorker({ kind: 'cancelled', id: 3 })).toBe(true);
    expect(isFromWorker({ kind: 'cancelled' })).toBe(false);
  });

  it('probe process messages in both directions', () => {
    expect(isCallerToProbeMessage({ type: 'probe-cancel', id: 1 })).toBe(true);
    expect(isCallerToProbeMessage({ type: 'probe-request', id: 1, model: {}, options: {} })).toBe(true);
    expect(isCallerToProbeMessage({ type: 'probe-request', id: 1 })).toBe(false);
    expect(isCallerToProbeMessage({ type: 'probe-warm', backend: 'wasm' })).toBe(true);
    expect(isCallerToProbeMessage({ type: 'probe-warm', backend: 'gpu' })).toBe(false);
    expect(isProbeToCallerMessage({ type: 'probe-done', id: 1, outcome: { ok: true } })).toBe(true);
    expect(isProbeToCallerMessage({ type: 'probe-cancel', id: 1 })).toBe(false);
  });
});
