// The asyncio tasks of the asyncio_service fixture, checked against what the process said about
// them just before the core was taken: every task's name, state, coroutine chain (function, file,
// line of each coroutine), what it awaits and who awaits it, its exception; the loop and the thread
// running it; what each waits on in words; the findings. On every fixture Python whose tasks the
// gdb side reads; the others are reported as skipped, with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../src/base/paths.js';
import { analyzedPythons, coreOf, ingestFresh, runCli, showJson, skippedFor, truthOf } from './helpers.js';

interface TruthFrame { function: string; file: string; line: number }
type TruthAwait = null | { kind: 'task'; name: string } | { kind: 'gather'; children: TruthAwait[] } | { kind: 'future'; type: string };
interface TruthTask {
  /** The name the task shows (3.7 names no task: "task 0x…"), and the name the workload gave it. */
  name: string; label: string; address: number; state: string; chain: TruthFrame[]; awaits: TruthAwait; awaited_by: string[];
  exception: string | null; log_traceback: boolean; log_destroy_pending: boolean;
  /** The LWP of the thread running the run_in_executor work it awaits, or null. */
  executor_tid: number | null;
}
interface TasksTruth { tasks: TruthTask[]; loops: { address: number; thread_ident: number; ready: number; scheduled: number }[] }

interface ShownFuture { address: number; type: string; kind: string; state: string | null; task_name: string | null; children: ShownFuture[] | null }
interface ShownTask {
  address: number; name: string; type: string; state: string; running: boolean; exception: string | null; exception_retrieved: boolean | null;
  log_destroy_pending: boolean; waits_on: ShownFuture | null; waits_on_text: string; awaited_by: string[];
  chain: { function: string; file: string; line: number; kind: string; state: string }[];
}
interface ShownLoop { address: number; thread_tid: number | null; thread_ident: number | null; ready: number | null; scheduled: number | null; current_task: number | null }

/** The versions whose tasks the gdb side reads (the tasks feature of coroner_layouts' VERSIONS is not NoTasks). */
function taskVersions(): string[] {
  const code = "import coroner_layouts as c; print(','.join('%d.%d' % v for v, (n, f) in sorted(c.VERSIONS.items()) if f['tasks'] != 'tasks.NoTasks'))";
  const r = spawnSync('python3', ['-c', code], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(packageRoot, 'src', 'extract', 'gdb') } });
  if (r.status !== 0) throw new Error(`cannot read the gdb side's registry: ${r.stderr}`);
  return r.stdout.trim().split(',');
}

function awaitsOf(f: ShownFuture | null): TruthAwait {
  if (!f) return null;
  if (f.kind === 'task') return { kind: 'task', name: f.task_name! };
  if (f.kind === 'gather') return { kind: 'gather', children: f.children!.map(awaitsOf) };
  return { kind: 'future', type: f.type.slice(f.type.lastIndexOf('.') + 1) };
}

/** The name a task shows, from the name the workload gave it (the same from 3.8 on). */
function shownName(truth: TasksTruth, label: string): string {
  return truth.tasks.find((t) => t.label === label)?.name ?? label;
}

function compareTasks(tasks: ShownTask[] | null, truth: TasksTruth): void {
  assert.ok(tasks, 'tasks are read');
  assert.deepEqual(tasks.map((t) => t.name).sort(), truth.tasks.map((t) => t.name).sort(), 'the same tasks');
  for (const want of truth.tasks) {
    const got: ShownTask = tasks.find((t) => t.name === want.name)!;
    assert.equal(got.address, want.address, `${want.name}: address`);
    assert.equal(got.state, want.state.toLowerCase(), `${want.name}: state`);
    assert.deepEqual(got.chain.map((f) => `${f.function} ${f.file}:${f.line}`), want.chain.map((f) => `${f.function} ${f.file}:${f.line}`), `${want.name}: coroutine chain`);
    assert.deepEqual(awaitsOf(got.waits_on), want.awaits, `${want.name}: what it awaits`);
    assert.deepEqual(got.awaited_by, want.awaited_by, `${want.name}: awaited by`);
    assert.equal(got.exception, want.exception, `${want.name}: exception`);
    if (want.exception) assert.equal(got.exception_retrieved, !want.log_traceback, `${want.name}: exception retrieved`);
    assert.equal(got.log_destroy_pending, want.log_destroy_pending, `${want.name}: log_destroy_pending`);
  }
}

const versions = taskVersions();
for (const py of await analyzedPythons()) {
  const skipped = await skippedFor(py.id, 'asyncio_service');
  const reason = skipped ? `the asyncio_service workload does not run on ${py.id}: ${skipped}`
    : !versions.includes(py.id) ? `coroner reads no asyncio tasks of CPython ${py.id} yet (it reads those of ${versions.join(', ')})` : null;
  if (reason) console.log(`tasks [python ${py.id}]: NOT CHECKED: ${reason}`);

  test(`asyncio tasks [python ${py.id}]: every task's name, state, coroutine chain, awaits and awaited-by as in-process; waits in words; findings`, { skip: reason ?? false }, async () => {
    const core = await coreOf(py.id, 'asyncio_service', 1);
    const truth = truthOf(core) as ReturnType<typeof truthOf> & { extra: TasksTruth };
    const db = ingestFresh([core.core], core.ingestArgs);
    const shown = showJson(db, '1') as ReturnType<typeof showJson> & { tasks: ShownTask[] | null; loops: ShownLoop[] | null };
    compareTasks(shown.tasks, truth.extra);
    const tasks = shown.tasks!;
    const name = (label: string): string => shownName(truth.extra, label);
    const byName = (label: string): ShownTask => tasks.find((t) => t.name === name(label))!;

    // The loop, and the thread that runs it.
    const want = truth.extra.loops[0]!;
    const loop = shown.loops!.find((l) => l.address === want.address);
    assert.ok(loop, 'the loop is shown');
    const main = truth.threads.find((t) => t.ident === want.thread_ident)!;
    assert.equal(loop.thread_tid, main.native_id, 'the loop runs in the main thread');
    assert.equal(loop.ready, want.ready, 'ready callbacks');
    assert.equal(loop.scheduled, want.scheduled, 'timers');
    assert.equal(loop.current_task, null, 'no task step under way in a callback');

    // What each waits on, in words.
    assert.match(byName('sleeper-0').waits_on_text, /^asyncio\.sleep\(3600\), due at loop time [\d.]+/);
    assert.match(byName('event-waiter-0').waits_on_text, /^Event\.wait on <Event at 0x[0-9a-f]+> at asyncio_service\.py:\d+ \(event_waiter\)$/);
    assert.match(byName('consumer-0').waits_on_text, /^Queue\.get on <Queue at 0x[0-9a-f]+>/);
    assert.match(byName('producer').waits_on_text, /^Queue\.put on <Queue at 0x[0-9a-f]+>/);
    assert.match(byName('lock-waiter').waits_on_text, /^Lock\.acquire on <Lock at 0x[0-9a-f]+> at asyncio_service\.py:\d+ \(lock_waiter\)$/);
    assert.ok(byName('task-awaiter').waits_on_text.startsWith(`awaits task "${name('awaited-sleeper')}"`), byName('task-awaiter').waits_on_text);
    assert.match(byName('gatherer').waits_on_text, /^awaits gather of 2: gather of 2: task "(Task-\d+|task 0x[0-9a-f]+)", task "(Task-\d+|task 0x[0-9a-f]+)", gather of 2: /);
    const executorTid = truth.extra.tasks.find((t) => t.label === 'executor-waiter')!.executor_tid;
    assert.ok(executorTid, 'the workload knows its executor thread');
    assert.equal(byName('executor-waiter').waits_on_text, `awaits run_in_executor: its work runs in thread LWP ${executorTid} at asyncio_service.py:${truth.extra.tasks.find((t) => t.label === 'executor-waiter')!.chain.at(-1)!.line} (executor_waiter)`);
    if (truth.extra.tasks.some((t) => t.label === 'taskgroup-parent')) {
      assert.match(byName('taskgroup-parent').waits_on_text, /^TaskGroup\.(__aexit__|_aexit) on <TaskGroup .*> at asyncio_service\.py:\d+ \(taskgroup_parent\)$/);
    }
    assert.match(byName('failing').waits_on_text, /^finished with ValueError\('boom in a task nobody awaits'\), never retrieved$/);

    // Findings.
    const kinds = shown.findings.map((f) => f.kind);
    for (const kind of truth.expect.findings ?? []) assert.ok(kinds.includes(kind), `finding ${kind} in ${kinds.join(', ')}`);
    for (const kind of truth.expect.absent_findings ?? []) assert.ok(!kinds.includes(kind), `no ${kind} finding: ${JSON.stringify(shown.findings)}`);
    const deadlocks = shown.findings.filter((f) => f.kind === 'async-deadlock').map((f) => [f.title, f.detail, ...f.evidence].join('\n'));
    const expect = truth.expect as { deadlocked: string[]; cycle: string[]; failed: string };
    assert.equal(deadlocks.length, 2, `two async deadlocks:\n${deadlocks.join('\n\n')}`);
    const lockCycle = deadlocks.find((d) => expect.deadlocked.every((n) => d.includes(`"${name(n)}"`)));
    assert.ok(lockCycle, `an async-deadlock names ${expect.deadlocked.join(', ')}`);
    assert.ok(expect.deadlocked.some((n) => new RegExp(`waits on <Lock at 0x[0-9a-f]+> at asyncio_service\\.py:\\d+ in transfer; held by task "${name(n)}"`).test(lockCycle)), lockCycle);
    assert.ok(deadlocks.some((d) => expect.cycle.every((n) => d.includes(`awaits task "${name(n)}"`))), `an async-deadlock names ${expect.cycle.join(', ')} awaiting each other`);
    const failed = shown.findings.find((f) => f.kind === 'task-exception-never-retrieved')!;
    assert.ok(failed.title.includes(`"${name(expect.failed)}" died of ValueError('boom in a task nobody awaits')`), failed.title);

    // The text: a Tasks section after the threads, the 20 sleepers shown once.
    const text = runCli(['show', '1', '--db', db], { COLUMNS: '0' }).stdout;
    assert.ok(text.indexOf(`Tasks (${tasks.length})`) > text.indexOf('Threads ('), 'Tasks section after the threads');
    // The await tree: every edge is one the process knew (a task above each task it awaits), and every such edge is drawn.
    const tree = text.slice(text.indexOf('Who awaits whom')).split('\n').slice(1);
    const drawn = new Set<string>();
    const stack: string[] = [];
    for (const line of tree) {
      const m = /^(.*?)[└├]── \(T\) (.+?)(?: {2}\S+:\d+ in \S+)?(?: {2}\(drawn above[^)]*\))?$/.exec(line);
      if (!m) break;
      const depth = (m[1]!.length - 2) / 4;
      stack.length = depth;
      if (depth > 0) drawn.add(`${stack[depth - 1]} → ${m[2]}`);
      stack.push(m[2]!);
    }
    const known = new Set(truth.extra.tasks.flatMap((t) => t.awaited_by.map((parent) => `${parent} → ${t.name}`)));
    assert.ok(known.size >= 6, `the fixture has tasks awaiting tasks: ${known.size}`);
    assert.deepEqual([...drawn].sort(), [...known].sort(), 'the await tree');
    // 3.7 names no task: its sleepers are "task 0x…" and no numbered run.
    assert.match(text, /\n {2}20 tasks ("sleeper-0"…"sleeper-19"|"task 0x[0-9a-f]+", .* and 12 more) {2}pending\n {4}asyncio\.sleep\(3600\)/);
  });

  test(`asyncio event loop blocked [python ${py.id}]: a task running synchronous code is named, with the frames that block`, { skip: reason ?? false }, async () => {
    const core = await coreOf(py.id, 'asyncio_service', 2);
    const truth = truthOf(core) as ReturnType<typeof truthOf> & { extra: TasksTruth };
    const db = ingestFresh([core.core], core.ingestArgs);
    const shown = showJson(db, '1') as ReturnType<typeof showJson> & { tasks: ShownTask[] | null; loops: ShownLoop[] | null };
    compareTasks(shown.tasks, truth.extra);
    const expect = truth.expect as { blocked_task: string; blocked_function: string };
    const blockedName = shownName(truth.extra, expect.blocked_task);
    const blocked = shown.tasks!.find((t) => t.name === blockedName)!;
    assert.ok(blocked.running, 'the blocking task is running');
    assert.equal(shown.loops![0]!.current_task, blocked.address, "the loop's current task");
    const f = shown.findings.find((x) => x.kind === 'event-loop-blocked');
    assert.ok(f, `an event-loop-blocked finding: ${shown.findings.map((x) => x.kind).join(', ')}`);
    const text = [f.title, f.detail, ...f.evidence].join('\n');
    assert.ok(text.includes(`"${blockedName}"`), `names the task:\n${text}`);
    assert.ok(text.includes(`${expect.blocked_function} (asyncio_service.py:`), `names the frame that blocks:\n${text}`);
  });

  test(`asyncio diff [python ${py.id}]: the next dump's new task by coroutine, and the tasks stuck at the same await in both`, { skip: reason ?? false }, async () => {
    const [c1, c2] = [await coreOf(py.id, 'asyncio_service', 1), await coreOf(py.id, 'asyncio_service', 2)];
    const tasksTruth = (c: typeof c1): TasksTruth => (truthOf(c) as ReturnType<typeof truthOf> & { extra: TasksTruth }).extra;
    const [t1, t2] = [tasksTruth(c1), tasksTruth(c2)];
    const db = ingestFresh([c1.core], c1.ingestArgs);
    assert.equal(runCli(['ingest', c2.core, '--db', db, ...c2.ingestArgs]).code, 0);
    const r = runCli(['diff', '1', '2', '--db', db, '--json', '--no-holders']);
    assert.equal(r.code, 0, r.stderr);
    const d = (JSON.parse(r.stdout) as { tasks: { count_a: number; count_b: number; by_coroutine: { coroutine: string; delta: number }[]; stuck: { where: string; names: string[] }[] } }).tasks;
    assert.equal(d.count_a, t1.tasks.length);
    assert.equal(d.count_b, t2.tasks.length);
    assert.ok(d.by_coroutine.some((c) => c.coroutine === 'blocking_step (asyncio_service.py)' && c.delta === 1), JSON.stringify(d.by_coroutine));
    // Stuck, by the truth: pending in both dumps, the same task, waiting at the same line.
    const inner = (t: TruthTask): string | null => (t.chain.length ? `${t.chain.at(-1)!.function} ${t.chain.at(-1)!.file}:${t.chain.at(-1)!.line}` : null);
    const before = new Map(t1.tasks.map((t) => [t.address, t]));
    const want = t2.tasks.filter((t) => {
      const old = before.get(t.address);
      return old && old.state === 'PENDING' && t.state === 'PENDING' && inner(t) !== null && inner(old) === inner(t) && old.chain[0]!.function === t.chain[0]!.function;
    }).map((t) => t.name).sort();
    assert.ok(want.length > 40, `the fixture keeps most tasks waiting: ${want.length}`);
    assert.deepEqual(d.stuck.flatMap((s) => s.names).sort(), want);
    const text = runCli(['diff', '1', '2', '--db', db, '--no-holders']).stdout;
    const sleepers = t2.tasks.filter((t) => want.includes(t.name) && t.chain.some((f) => f.function === 'sleeper')).length;
    assert.match(text, new RegExp(`\\nStuck at the same await in both dumps: ${want.length} tasks\\n(  .*\\n)*? {2}${sleepers} at asyncio_service\\.py:\\d+ in sleeper: asyncio\\.sleep\\(`));
  });
}
