// Work to undo if the process ends before it is done (temporary folders, gdb process groups):
// run on exit, and on SIGINT/SIGTERM when nobody else handles them (then the process dies of the
// signal as it would have). A server that handles the signals itself finishes first; exit cleans up.

const actions = new Set<() => void>();

function runAll(): void {
  for (const action of [...actions]) {
    try {
      action();
    } catch {
      // Best effort: the process is going away.
    }
  }
  actions.clear();
  unlisten();
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  runAll();
  process.kill(process.pid, signal);
}

function listen(): void {
  process.on('exit', runAll);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function unlisten(): void {
  process.off('exit', runAll);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

/** Register an action for an interrupted process; call the returned function once it is no longer needed. */
export function atInterrupt(action: () => void): () => void {
  if (actions.size === 0) listen();
  actions.add(action);
  return () => {
    actions.delete(action);
    if (actions.size === 0) unlisten();
  };
}
