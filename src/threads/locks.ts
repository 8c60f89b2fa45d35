// Deadlocks and lock waits. An RLock records its owner, so a wait-for cycle between RLocks is
// certain. A plain Lock records no owner: its likely holder is a thread whose frames still
// reference the lock while waiting elsewhere (the `with first:` of a lock-order deadlock); and
// when no thread at all is left that could release anything, the process is stuck either way.
import { basename } from './classify.js';
import type { Finding, Thread } from '../model/types.js';

const hex = (n: number): string => `0x${n.toString(16)}`;

function label(t: Thread): string {
  return `${t.name ?? 'unnamed thread'} (LWP ${t.tid})`;
}

/** The user's line where a blocked thread waits: its innermost frame outside threading/queue. */
function waitLine(t: Thread): string {
  const f = t.pythonFrames.find((p) => !/(^|\/)(threading|queue)\.py$/.test(p.file)) ?? t.pythonFrames[0];
  return f ? `${basename(f.file)}:${f.line} in ${f.function}` : 'native code';
}

function lockName(t: Thread): string {
  const w = t.waitsOn;
  if (!w) return 'a lock';
  return `${w.kind === 'rlock' ? 'RLock' : 'Lock'} ${hex(w.address)}`;
}

/** The thread t waits to finish in Thread.join (its tstate lock is released when that thread ends). */
function joinedThread(t: Thread, threads: Thread[]): Thread | null {
  const join = t.pythonFrames.find((f) => /(^|\/)threading\.py$/.test(f.file) && (f.function === '_wait_for_tstate_lock' || f.function === 'join'));
  const self = join?.locals.find((l) => l.name === 'self')?.repr;
  const address = self ? /^<\w+ (?:object )?at 0x([0-9a-f]+)>$/.exec(self)?.[1] : undefined;
  return address ? threads.find((o) => o !== t && o.threadObject === parseInt(address, 16)) ?? null : null;
}

/** Who holds the lock t waits on: known for an RLock and for Thread.join, likely for a Lock referenced by another thread's frames. */
function holderOf(t: Thread, threads: Thread[]): { holder: Thread; certain: boolean; how: string } | null {
  const w = t.waitsOn;
  if (!w) return null;
  const joined = joinedThread(t, threads);
  if (joined) return { holder: joined, certain: true, how: 'Thread.join: waits for it to finish' };
  if (w.kind === 'rlock' && w.ownerIdent) {
    const holder = threads.find((o) => o.ident === w.ownerIdent);
    return holder ? { holder, certain: true, how: `owner recorded in the RLock (count ${w.count ?? '?'})` } : null;
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
      title: `Deadlock: ${cycle.map((t) => t.name ?? `LWP ${t.tid}`).join(', ')} wait for each other`,
      detail:
        `${cycle.map((t) => t.name ?? `LWP ${t.tid}`).concat(cycle[0]!.name ?? `LWP ${cycle[0]!.tid}`).join(' → ')}: ` +
        `each thread waits for a lock that the next one holds, so none can go on.` +
        (certain ? '' : ' Plain Locks record no owner: the holders are inferred from the frames that reference each lock.'),
      evidence: cycle.map((t) => {
        const h = holders.get(t)!;
        return `${label(t)} waits on ${lockName(t)} at ${waitLine(t)}; held by ${label(h.holder)} (${h.how})`;
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
    const who = h ? `held by ${label(h.holder)} (${h.how})` : t.waitsOn?.kind === 'rlock' ? 'free or owner not found' : 'holder unknown: a Lock records no owner';
    return `${label(t)} waits on ${lockName(t)} at ${waitLine(t)}; ${who}`;
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
        `${runnable.map((t) => `${t.name ?? `LWP ${t.tid}`} (${t.state})`).join(', ')} can still run and release ${rest.length > 1 ? 'them' : 'it'}: not a deadlock.`,
      evidence,
      remedy: 'Nothing to do if the wait is expected; a wait that lasts across several dumps points at a lock held too long.',
      threads: rest.map((t) => t.tid),
    });
  }
  return findings;
}
