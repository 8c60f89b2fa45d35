// Deadlocks and lock waits. Who holds a lock is known for certain from the `with` block that
// holds it (the held locks gdb read from each frame's value or block stack, wherever the lock
// lives: a global, an attribute, a closure), from an RLock's recorded owner, and for Thread.join.
// A lock taken with acquire() and no with block records no holder: its likely holder is a
// thread whose frames still reference the lock while waiting elsewhere. When no thread at all is
// left that could release anything, the process is stuck either way.
import { basename, frameAt } from '../base/file-name.js';
import type { Finding, HeldLock, PythonFrame, Thread } from '../model/types.js';

const hex = (n: number): string => `0x${n.toString(16)}`;

export function label(t: Thread): string {
  return `${t.name ?? 'unnamed thread'} (LWP ${t.tid})`;
}

const shortName = (t: Thread): string => t.name ?? `LWP ${t.tid}`;

/** The user's line where a blocked thread waits: its innermost frame outside threading/queue. */
function waitLine(t: Thread): string {
  const f = t.pythonFrames.find((p) => !/(^|\/)(threading|queue)\.py$/.test(p.file)) ?? t.pythonFrames[0];
  return f ? frameAt(f) : 'native code';
}

export function lockName(kind: string, address: number): string {
  return `${kind === 'rlock' ? 'RLock' : 'Lock'} ${hex(address)}`;
}

function waitName(t: Thread): string {
  const w = t.waitsOn;
  if (!w) return 'a lock';
  return w.condition !== null ? `Condition ${hex(w.condition)} (its waiter ${lockName(w.kind, w.address)})` : lockName(w.kind, w.address);
}

/** Where a held lock's with block is, in words: "a with block at x.py:3 in f (through Condition 0x...)". */
export function heldWhere(t: Thread, h: HeldLock): string {
  const f = t.pythonFrames[h.frame];
  const through = [h.context ? `${h.context}()` : null, h.condition !== null ? `Condition ${hex(h.condition)}` : null].filter(Boolean);
  return `a with block${f ? ` at ${frameAt(f)}` : ''}${through.length ? ` (through ${through.join(', ')})` : ''}`;
}

/** The locks a thread's with blocks hold now: not those it gave up while waiting in Condition.wait. */
const heldNow = (t: Thread): HeldLock[] => t.heldLocks.filter((h) => !h.released);

/** The thread t waits to finish in Thread.join (its tstate lock is released when that thread ends). */
function joinedThread(t: Thread, threads: Thread[]): Thread | null {
  const join = t.pythonFrames.find((f) => /(^|\/)threading\.py$/.test(f.file) && (f.function === '_wait_for_tstate_lock' || f.function === 'join'));
  const self = join?.locals.find((l) => l.name === 'self')?.repr;
  const address = self ? /^<\w+ (?:object )?at 0x([0-9a-f]+)>$/.exec(self)?.[1] : undefined;
  return address ? threads.find((o) => o !== t && o.threadObject === parseInt(address, 16)) ?? null : null;
}

export interface Holder {
  holder: Thread;
  /** Known (a with block, an RLock's owner, Thread.join), not inferred from references. */
  certain: boolean;
  how: string;
}

/**
 * Who holds the lock t waits on: known from a with block that holds it, an RLock's owner and
 * Thread.join; likely for a Lock referenced by another thread's frames. None for a Condition's
 * waiter lock: a notify() releases it, whoever calls it.
 */
export function holderOf(t: Thread, threads: Thread[]): Holder | null {
  const w = t.waitsOn;
  if (!w) return null;
  const joined = joinedThread(t, threads);
  if (joined) return { holder: joined, certain: true, how: 'Thread.join: waits for it to finish' };
  if (w.condition !== null) return null;
  const owner = w.kind === 'rlock' && w.ownerIdent ? `owner recorded in the RLock (count ${w.count ?? '?'})` : null;
  // A with block first, the thread itself included (a Lock taken twice by one thread).
  for (const other of [...threads.filter((o) => o !== t), t]) {
    const h = heldNow(other).find((x) => x.address === w.address);
    if (h) return { holder: other, certain: true, how: `holds it in ${heldWhere(other, h)}${owner && other.ident === w.ownerIdent ? `; ${owner}` : ''}` };
  }
  if (owner) {
    const holder = threads.find((o) => o.ident === w.ownerIdent);
    return holder ? { holder, certain: true, how: owner } : null;
  }
  const needle = hex(w.address);
  for (const other of threads) {
    if (other === t || other.waitsOn?.address === w.address) continue;
    for (const frame of other.pythonFrames) {
      const local = frame.locals.find((l) => l.repr.includes(needle));
      if (local) {
        return { holder: other, certain: false, how: `likely: its frame ${frame.function} (${basename(frame.file)}:${frame.line}) holds it as \`${local.name}\`` };
      }
    }
  }
  return null;
}

/** A lock a thread holds, as show and the report list it: with the threads that wait for it. */
export interface HeldView {
  address: number;
  kind: string;
  /** The frame whose with block holds it; null for an RLock known only by its recorded owner. */
  frame: PythonFrame | null;
  condition: number | null;
  /** The @contextmanager function through which the with block holds it, or null. */
  context: string | null;
  released: boolean;
  /** "a with block at x.py:3 in f", "its recorded owner (RLock acquired without a with block)" */
  how: string;
  wantedBy: Thread[];
}

/** The locks t holds (its with blocks', and the RLocks others wait on that record t as owner), with who waits for each. */
export function locksHeldBy(t: Thread, threads: Thread[]): HeldView[] {
  const wanting = (address: number): Thread[] => threads.filter((o) => o !== t && o.waitsOn?.address === address && o.waitsOn.condition === null);
  const out: HeldView[] = t.heldLocks.map((h) => ({
    address: h.address, kind: h.kind, frame: t.pythonFrames[h.frame] ?? null, condition: h.condition, context: h.context ?? null, released: h.released,
    how: heldWhere(t, h), wantedBy: h.released ? [] : wanting(h.address),
  }));
  for (const o of threads) {
    const w = o.waitsOn;
    if (o === t || !w || w.kind !== 'rlock' || !t.ident || w.ownerIdent !== t.ident || out.some((h) => h.address === w.address)) continue;
    out.push({ address: w.address, kind: w.kind, frame: null, condition: null, context: null, released: false, how: 'its recorded owner (acquired without a with block)', wantedBy: wanting(w.address) });
  }
  return out;
}

/** Threads that could still run and release a lock. */
function canProgress(t: Thread): boolean {
  return t.state !== 'waiting-lock' && (t.pythonFrames.length > 0 || t.holdsGil);
}

export function lockFindings(threads: Thread[]): Finding[] {
  const blocked = threads.filter((t) => t.state === 'waiting-lock');
  if (blocked.length === 0) return [];
  const holders = new Map(blocked.map((t) => [t, holderOf(t, threads)]));

  // Wait-for cycles among blocked threads.
  const inCycle = new Set<Thread>();
  const cycles: Thread[][] = [];
  for (const start of blocked) {
    const path: Thread[] = [];
    let cur: Thread | undefined = start;
    while (cur && !path.includes(cur) && !inCycle.has(cur)) {
      path.push(cur);
      const h = holders.get(cur);
      cur = h && h.holder.state === 'waiting-lock' ? h.holder : undefined;
    }
    if (cur && path.includes(cur)) {
      const cycle = path.slice(path.indexOf(cur));
      cycle.forEach((t) => inCycle.add(t));
      cycles.push(cycle);
    }
  }
  const findings: Finding[] = cycles.map((cycle) => {
    const certain = cycle.every((t) => holders.get(t)?.certain);
    return {
      kind: 'deadlock',
      severity: 'critical',
      title: cycle.length === 1
        ? `Deadlock: ${shortName(cycle[0]!)} waits for a lock it holds itself`
        : `Deadlock: ${cycle.map(shortName).join(', ')} wait for each other`,
      detail:
        (cycle.length === 1
          ? `${shortName(cycle[0]!)} waits to acquire a lock that it holds already (a Lock is not reentrant), so it waits forever.`
          : `${cycle.map(shortName).concat(shortName(cycle[0]!)).join(' → ')}: each thread waits for a lock that the next one holds, so none can go on, ` +
            'whatever the other threads do.') +
        (certain ? '' : ' Some holders are inferred (marked "likely"): a Lock taken without a with block records no owner, and the frames that reference it are taken as its holder.'),
      evidence: cycle.map((t) => {
        const h = holders.get(t)!;
        return `${label(t)} waits on ${waitName(t)} at ${waitLine(t)}; held by ${label(h.holder)} (${h.how})`;
      }),
      remedy: 'Acquire the locks in one global order in every thread, or use a timeout (lock.acquire(timeout=...)) and back off.',
      threads: cycle.map((t) => t.tid),
    };
  });

  const rest = blocked.filter((t) => !inCycle.has(t));
  if (rest.length === 0) return findings;
  const runnable = threads.filter(canProgress);
  const evidence = rest.map((t) => {
    const h = holders.get(t);
    const who = h ? `held by ${label(h.holder)} (${h.how})`
      : t.waitsOn?.condition != null ? 'to be notified (Condition.wait: released by notify(), not by a lock holder)'
        : t.waitsOn?.kind === 'rlock' ? 'free or owner not found' : 'holder unknown: no with block holds it, and a Lock records no owner';
    return `${label(t)} waits on ${waitName(t)} at ${waitLine(t)}; ${who}`;
  });
  if (runnable.length === 0) {
    findings.push({
      kind: 'deadlock',
      severity: 'critical',
      title: `Deadlock: ${rest.length > 1 ? `${rest.length} threads wait` : `${rest[0]!.name ?? `LWP ${rest[0]!.tid}`} waits`} on a lock and no thread is left to release it`,
      detail:
        `Every thread that runs Python is blocked on a lock: ${rest.map((t) => t.name ?? `LWP ${t.tid}`).join(', ')}. ` +
        'No thread is running, sleeping or doing I/O, so none of these locks can be released.',
      evidence,
      remedy: 'Find which lock each thread took before blocking (its with-statements in the stacks above); take locks in one order everywhere, or use timeouts.',
      threads: rest.map((t) => t.tid),
    });
  } else {
    findings.push({
      kind: 'lock-wait',
      severity: 'info',
      title: `${rest.length} thread${rest.length > 1 ? 's' : ''} wait${rest.length > 1 ? '' : 's'} on a lock`,
      detail:
        `${rest.map((t) => t.name ?? `LWP ${t.tid}`).join(', ')} ${rest.length > 1 ? 'are' : 'is'} blocked, but ` +
        `${runnable.map((t) => `${t.name ?? `LWP ${t.tid}`} (${t.state})`).join(', ')} can still run and ${rest.some((t) => t.waitsOn?.condition != null) ? 'release or notify' : 'release'} ${rest.length > 1 ? 'them' : 'it'}: not a deadlock.`,
      evidence,
      remedy: 'Nothing to do if the wait is expected; a wait that lasts across several dumps points at a lock held too long.',
      threads: rest.map((t) => t.tid),
    });
  }
  return findings;
}
