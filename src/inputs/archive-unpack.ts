// The main thread's side of archive-worker: the cores of an archive file, as streamSources gives
// them, unpacked by a worker thread into a folder of the scratch space.
import { Worker } from 'node:worker_threads';
import { CoronerError } from '../base/errors.js';
import type { Scratch } from './scratch.js';
import type { InputItem } from './source.js';
import type { WorkerMessage, WorkerTask } from './archive-worker.js';

export async function* archiveSources(path: string, scratch: Scratch, maxUnpacked: number, onBytes?: (n: number) => void): AsyncGenerator<InputItem> {
  const task: WorkerTask = { path, name: path, dir: await scratch.folder('archive'), maxUnpacked };
  const worker = new Worker(new URL('./archive-worker.js', import.meta.url), { workerData: task });
  const inbox: WorkerMessage[] = [];
  let wake: (() => void) | null = null;
  const deliver = (m: WorkerMessage): void => {
    inbox.push(m);
    wake?.();
  };
  worker.on('message', (m: WorkerMessage) => {
    if ('bytes' in m) onBytes?.(m.bytes);
    else deliver(m);
  });
  worker.once('error', (err) => deliver({ failed: err.message }));
  worker.once('exit', (code) => deliver({ failed: `the unpacking thread stopped with code ${code}` }));
  try {
    for (;;) {
      while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const m = inbox.shift()!;
      if ('done' in m) return;
      if ('failed' in m) {
        yield { problem: { name: path, error: new CoronerError(`${path}: the archive could not be read: ${m.failed}`, 'bad-archive') } };
        return;
      }
      if ('problem' in m) yield { problem: { name: m.problem.name, error: new CoronerError(m.problem.message, m.problem.kind) } };
      else if ('source' in m) yield m;
      worker.postMessage('next');
    }
  } finally {
    await worker.terminate();
  }
}
