// Tasks as the model holds them, for the fast tests of what is computed from them.
import type { AsyncTask, TaskFrame } from '../../src/model/types.js';

const frame = (fn: string, line: number): TaskFrame => ({ function: fn, file: '/srv/app/service.py', line, kind: 'coroutine', state: 'suspended', locals: [], timerWhen: null });

export function task(address: number, name: string, chain: [string, number][], waitsOn = 0x900, state = 'pending'): AsyncTask {
  return {
    address, name, type: '_asyncio.Task', state, running: false, loop: 0x10, exception: null, exceptionRetrieved: null, logDestroyPending: true,
    waitsOn: waitsOn ? { address: waitsOn, type: '_asyncio.Future', kind: 'future', state: 'pending', taskName: null, children: null } : null,
    waitsOnText: 'a future', awaitedBy: [], chain: chain.map(([fn, line]) => frame(fn, line)), awaitable: null,
  };
}

