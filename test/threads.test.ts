// Every thread of every fixture core, checked against what the process said about itself just
// before the core was taken: names, every Python frame's function/file/line, locals, states, findings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzedPythons, coreOf, ingestFresh, runCli, showJson, truthOf, type ShownDump, type Truth } from './helpers.js';

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

  test(`lock orders [python ${py.id}]: each lock-order deadlock (globals, attributes, closures, mixed, RLocks, a Condition, a @contextmanager) names its two threads and the holders with certainty, while other threads run`, async () => {
    const core = await coreOf(py.id, 'lock_orders');
    const truth = truthOf(core);
    const db = ingestFresh([core.core], core.ingestArgs);
    const shown = showJson(db, '1');
    compareWithTruth(shown, truth);
    const byName = (name: string) => shown.threads.find((t) => t.name === name)!;
    const deadlocks = shown.findings.filter((f) => f.kind === 'deadlock');
    const pairs = truth.expect.deadlock_pairs!;
    assert.equal(deadlocks.length, pairs.length, `one deadlock a pair: ${deadlocks.map((f) => f.title).join(' | ')}`);
    for (const [one, two] of pairs) {
      const named = (f: (typeof deadlocks)[number], n: string) => f.title.split(/[:,]| wait/).map((x) => x.trim()).includes(n);
      const f = deadlocks.find((d) => named(d, one) && named(d, two));
      assert.ok(f, `a deadlock finding names ${one} and ${two}: ${deadlocks.map((d) => d.title).join(' | ')}`);
      assert.equal(f.evidence.length, 2, `only the two threads: ${f.evidence.join(' | ')}`);
      assert.deepEqual([...f.threads!].sort(), [byName(one).tid, byName(two).tid].sort(), 'the finding names the two threads by LWP');
      assert.ok(!/likely/.test([f.detail, ...f.evidence].join('\n')), `holders known, not inferred: ${f.evidence.join(' | ')}`);
      for (const [me, partner] of [[one, two], [two, one]] as const) {
        assert.ok(f.evidence.some((e) => e.startsWith(`${me} (LWP`) && e.includes(`held by ${partner} (LWP`) && e.includes('holds it in a with block at')),
          `${me} waits on a lock ${partner} holds in a with block: ${f.evidence.join(' | ')}`);
      }
    }
    // Against the process's own ids: what each thread holds and waits on, and who holds that.
    for (const [name, ids] of Object.entries(truth.expect.holds!)) {
      const t = byName(name);
      assert.deepEqual(t.held_locks.filter((h) => !h.released).map((h) => h.address).sort(), [...ids].sort(), `locks ${name} holds`);
      assert.equal(t.waits_on?.address, truth.expect.waits![name], `the lock ${name} waits on`);
      const partner = pairs.flat().find((o) => o !== name && truth.expect.holds![o]!.includes(truth.expect.waits![name]!))!;
      assert.equal(t.waits_on?.held_by?.name, partner, `${name} waits for ${partner}`);
      assert.equal(t.waits_on?.held_by?.certain, true, `${name}'s holder is known`);
      for (const h of t.held_locks) {
        const wanted = pairs.flat().filter((o) => truth.expect.waits![o] === h.address);
        assert.deepEqual(h.wanted_by.map((w) => w.name), wanted, `who wants the lock ${name} holds`);
      }
    }
    const rlock = byName('rlock-ab').held_locks[0]!;
    assert.equal(rlock.kind, 'rlock');
    const managed = byName('managed-fwd').held_locks[0]!;
    assert.match(managed.how, /through holding\(\)/, `held through the @contextmanager: ${managed.how}`);
    const cond = byName('cond-first').held_locks[0]!;
    assert.ok(cond.condition !== null && /through Condition/.test(cond.how), `held through the Condition: ${cond.how}`);
    // The Condition waiter gave its lock up: it holds nothing, and waits to be notified.
    for (const [name, ids] of Object.entries(truth.expect.released!)) {
      const t = byName(name);
      assert.deepEqual(t.held_locks.map((h) => [h.address, h.released]), ids.map((id) => [id, true]), `${name} gave up its Condition's lock`);
      assert.equal(t.waits_on?.condition, truth.expect.condition_waits![name], `${name} waits in that Condition`);
      assert.equal(t.waits_on?.held_by, null, `nobody holds ${name}'s waiter lock`);
    }
    // Other threads run meanwhile: the spinner and the sleeping main thread.
    assert.ok(['running', 'waiting-gil'].includes(byName('spinner').state), `spinner: ${byName('spinner').state}`);
    // show says it too.
    const text = runCli(['show', '1', '--db', db], { COLUMNS: '0' }); // one line a lock, unwrapped
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /holds Lock 0x[0-9a-f]+ \(a with block at lock_orders\.py:\d+ in globals_forward\); wanted by globals-bwd \(LWP \d+\)/);
    assert.match(text.stdout, /waits on Lock 0x[0-9a-f]+; held by globals-bwd \(LWP \d+\): holds it in a with block at lock_orders\.py:\d+ in globals_backward/);
  });

  test(`crash SIGSEGV [python ${py.id}]: a ctypes NULL read in a named thread gives a crash finding on that thread, listed first, at its innermost Python frame`, async () => {
    const core = await coreOf(py.id, 'crash_segv');
    const truth = truthOf(core);
    const db = ingestFresh([core.core], core.ingestArgs);
    const shown = showJson(db, '1');
    compareWithTruth(shown, truth);
    assert.equal(shown.core.signal, 11);
    const worker = truth.threads.find((t) => t.name === truth.expect.crashing_thread)!;
    assert.equal(shown.threads[0]!.tid, worker.native_id, 'the crashing thread comes first');
    const want = truth.extra!.crash_frames as { function: string; file: string; line: number }[];
    assert.deepEqual(shown.threads[0]!.python_frames.slice(0, want.length).map((f) => `${f.function} ${f.file}:${f.line}`), want.map((f) => `${f.function} ${f.file}:${f.line}`));
    const crash = shown.findings.find((f) => f.kind === 'crash');
    assert.ok(crash, `a crash finding: ${JSON.stringify(shown.findings.map((f) => f.kind))}`);
    assert.deepEqual(crash.threads, [worker.native_id], 'the crash finding is about the crashing thread');
    const top = want[0]!;
    assert.match(crash.title, new RegExp(`SIGSEGV in ${truth.expect.crashing_thread} \\(LWP ${worker.native_id}\\) at ${top.file.split('/').at(-1)!.replace('.', '\\.')}:${top.line} in ${top.function}`));
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
