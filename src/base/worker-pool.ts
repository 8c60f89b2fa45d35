// Long-lived worker threads that run one task at a time each. A batch analyzes core after core:
// a fresh worker per core would load the modules again and let V8 compile the same hot loops
// again (measured: a third of coroner's own CPU time in a dozen-core batch). A pooled worker
// keeps both, and an idle one does not keep the process alive.
import { isMainThread, parentPort, Worker, type TransferListItem } from 'node:worker_threads';

interface Request<T> {
  id: number;
  task: T;
}

type Reply<R> = { id: number; result: R } | { id: number; error: string };

interface Pending<R> {
  resolve: (result: R) => void;
  reject: (err: Error) => void;
}

interface Slot<R> {
  worker: Worker;
  pending: Map<number, Pending<R>>;
  dead: boolean;
}

export class WorkerPool<T, R> {
  private idle: Slot<R>[] = [];
  private nextId = 1;

  constructor(private readonly script: URL) {}

  /**
   * Runs TASK on an idle worker, starting one when none is idle. With keep false the worker ends
   * after it, so that what a large task left in its heap goes back to the system at once.
   */
  run(task: T, opts: { keep?: boolean } = {}): Promise<R> {
    const slot = this.idle.pop() ?? this.start();
    slot.worker.ref();
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, task } satisfies Request<T>);
    }).finally(async () => {
      if (slot.dead) return;
      if (opts.keep === false) {
        await slot.worker.terminate();
        return;
      }
      slot.worker.unref();
      this.idle.push(slot);
    });
  }

  /** Ends every idle worker (busy ones are ended as they come back). */
  async close(): Promise<void> {
    const idle = this.idle;
    this.idle = [];
    await Promise.all(idle.map((s) => s.worker.terminate()));
  }

  private start(): Slot<R> {
    const worker = new Worker(this.script);
    const slot: Slot<R> = { worker, pending: new Map(), dead: false };
    worker.on('message', (reply: Reply<R>) => {
      const p = slot.pending.get(reply.id);
      slot.pending.delete(reply.id);
      if ('error' in reply) p?.reject(new Error(reply.error));
      else p?.resolve(reply.result);
    });
    // A worker that dies takes its task with it, never the pool: the next task starts a new one.
    const fail = (err: Error): void => {
      slot.dead = true;
      this.idle = this.idle.filter((s) => s !== slot);
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    };
    worker.once('error', fail);
    worker.once('exit', (code) => fail(new Error(`the worker stopped with code ${code}`)));
    return slot;
  }
}

/** The worker's side: answer each task with HANDLE's result (and its transfer list). */
export function serveTasks<T, R>(handle: (task: T) => Promise<{ result: R; transfer?: TransferListItem[] }>): void {
  if (isMainThread || !parentPort) throw new Error('serveTasks runs in a worker thread');
  const port = parentPort;
  port.on('message', ({ id, task }: Request<T>) => {
    handle(task).then(
      ({ result, transfer }) => port.postMessage({ id, result } satisfies Reply<R>, transfer),
      (err: unknown) => port.postMessage({ id, error: err instanceof Error ? err.message : String(err) } satisfies Reply<R>),
    );
  });
}
