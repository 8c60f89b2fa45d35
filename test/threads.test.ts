// Every thread of every fixture core, checked against what the process said about itself just
// before the core was taken: names, every Python frame's function/file/line, locals, states, findings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzedPythons, coreOf, ingestFresh, showJson, truthOf, type ShownDump, type Truth } from './helpers.js';

function compareWithTruth(shown: ShownDump, truth: Truth): void {
  assert.equal(shown.core.pid, truth.pid, 'pid');
  assert.equal(shown.python.version, truth.python, 'python version');
  assert.equal(shown.core.executable, truth.executable, 'executable');
  for (const t of truth.threads) {
    const thread = shown.threads.find((s) => s.tid === t.native_id);
    assert.ok(thread, `thread LWP ${t.native_id} (${t.name}) is shown`);
    assert.equal(thread.name, t.name, `name of LWP ${t.native_id}`);
    if (!t.frames) continue; // a thread still moving when its truth was written
    const got = thread.python_frames.map((f) => `${f.function} ${f.file}:${f.line}`);
    const want = t.frames.map((f) => `${f.function} ${f.file}:${f.line}`);
    assert.deepEqual(got, want, `Python stack of ${t.name}`);
    t.frames.forEach((f, i) => {
      for (const [name, repr] of Object.entries(f.locals ?? {})) {
        assert.equal(thread.python_frames[i]!.locals[name], repr, `${t.name} frame ${i} (${f.function}) local ${name}`);
      }
    });
  }
  for (const [name, state] of Object.entries(truth.expect.states ?? {})) {
    const thread = shown.threads.find((s) => s.name === name);
    assert.ok(thread, `thread ${name}`);
    assert.equal(thread.state, state, `state of ${name} (${thread.state_detail})`);
  }
  const kinds = shown.findings.map((f) => f.kind);
  for (const kind of truth.expect.findings ?? []) assert.ok(kinds.includes(kind), `finding ${kind} in ${kinds.join(', ')}`);
  for (const kind of truth.expect.absent_findings ?? []) assert.ok(!kinds.includes(kind), `no ${kind} finding: ${JSON.stringify(shown.findings)}`);
}

for (const py of await analyzedPythons()) {
  const py2 = py.id === '2.7';
  test(`recursion [python ${py.id}]: 40 frames deep, every frame and every local as in-process repr()`, async () => {
    const core = await coreOf(py.id, 'recursion');
    const truth = truthOf(core);
    const db = ingestFresh([core.core], core.ingestArgs);
    const shown = showJson(db, '1');
    compareWithTruth(shown, truth);
    const main = shown.threads.find((t) => t.tid === truth.pid)!;
    assert.equal(main.python_frames.filter((f) => f.function === 'recurse').length, truth.expect.depth! + 1);
    const leaf = main.python_frames.find((f) => f.function === 'leaf')!;
    // The issue's own examples, read exactly as Python prints them (2.7's bytes are its str).
    assert.equal(leaf.locals.nested, '[1, 2, 3, [1, 2, [1]]]');
    assert.equal(leaf.locals.mapping, "{'a': 'b'}");
    assert.equal(leaf.locals.raw, py2 ? "'Hello'" : "b'Hello'");
    assert.equal(leaf.locals.pi, '3.14');
    assert.equal(leaf.locals.nothing, 'None');
    assert.equal(leaf.locals.selfref, '[1, [...]]');
    assert.match(leaf.locals.order!, /^<Order at 0x[0-9a-f]+>$/);
    assert.equal(leaf.locals.long_text!.length, 80);
    assert.ok(leaf.locals.long_text!.endsWith('...'));
    assert.ok(main.holds_gil, 'the main thread holds the GIL');
    assert.equal(main.state, 'running');
    // The merged view: every Python frame sits at the native frame of the eval loop that runs it.
    for (const f of main.python_frames) {
      assert.ok(f.native_index >= 0, `${f.function} is placed on a native frame`);
      assert.equal(main.native_frames[f.native_index]!.function, py2 ? 'PyEval_EvalFrameEx' : '_PyEval_EvalFrameDefault');
    }
  });

  test(`threads [python ${py.id}]: named threads blocked on a lock, sleep, socket, event, queue, select`, async () => {
    const core = await coreOf(py.id, 'threads');
    const db = ingestFresh([core.core], core.ingestArgs);
    compareWithTruth(showJson(db, '1'), truthOf(core));
  });

  test(`deadlock [python ${py.id}]: a deadlock finding names the deadlocked threads and where they wait`, async () => {
    const core = await coreOf(py.id, 'deadlock');
    const truth = truthOf(core);
    const db = ingestFresh([core.core], core.ingestArgs);
    const shown = showJson(db, '1');
    compareWithTruth(shown, truth);
    const text = shown.findings.filter((f) => f.kind === 'deadlock').map((f) => [f.title, f.detail, ...f.evidence].join('\n')).join('\n');
    for (const name of truth.expect.deadlocked ?? []) assert.ok(text.includes(name), `deadlock finding names ${name}:\n${text}`);
    assert.match(text, /deadlock\.py:\d+ in transfer/, 'names the Python line where they wait');
    assert.match(text, /owner recorded in the RLock/, 'the RLock cycle is shown with its owners');
  });

  test(`crash [python ${py.id}]: a core written by the kernel on os.abort() shows SIGABRT and where the process died`, async () => {
    const core = await coreOf(py.id, 'crash');
    const truth = truthOf(core);
    const db = ingestFresh([core.core], core.ingestArgs);
    const shown = showJson(db, '1');
    compareWithTruth(shown, truth);
    assert.equal(shown.core.signal, 6);
    assert.equal((shown.core as { signal_name?: string }).signal_name, 'SIGABRT');
    assert.match(shown.core.cmdline, /crash\.py/);
    const main = shown.threads.find((t) => t.tid === truth.pid)!;
    assert.ok(main.native_frames.some((f) => f.function?.includes('abort')), 'abort is on the native stack');
    // The crash finding: the signal, the thread that took it (listed first) and its innermost Python frame.
    assert.equal(shown.threads[0]!.tid, truth.pid, 'the crashing thread comes first');
    const crash = shown.findings.find((f) => f.kind === 'crash');
    assert.ok(crash, `a crash finding: ${JSON.stringify(shown.findings.map((f) => f.kind))}`);
    assert.equal(crash.severity, 'critical');
    const innermost = truth.threads.find((t) => t.native_id === truth.pid)!.frames![0]!;
    assert.match(crash.title, new RegExp(`SIGABRT in MainThread \\(LWP ${truth.pid}\\) at ${innermost.file.split('/').at(-1)!.replace('.', '\\.')}:${innermost.line} in ${innermost.function}`));
  });
}
