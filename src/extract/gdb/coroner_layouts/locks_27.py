"""Lock waits of 2.7: thread.lock's acquire blocks in lock_PyThread_acquire_lock (Locks reads its
`self`), and threading.RLock is Python code (threading._RLock) around such a lock: a thread
waiting on an RLock blocks in _RLock.acquire on the RLock's private lock (_RLock__block). That
wait is shown as the RLock's, with the owner and count the RLock records (_RLock__owner, the
owner's thread.get_ident(), and _RLock__count), read from the innermost Python frame."""
from coroner_layouts.locks import Locks
from coroner_mem import BadRead


class Locks27(Locks):
    """Held locks as 3.x reads them, with 2.7's names: thread.lock, threading._RLock,
    threading._Condition, whose lock is the private __lock (_Condition__lock), and
    contextlib.GeneratorContextManager."""
    LOCK_TYPES = {"thread.lock": "lock"}
    PY_LOCK_CLASSES = {"_RLock": "rlock"}
    CONDITION_CLASSES = {"_Condition": "_Condition__lock"}
    GENERATOR_MANAGERS = {"GeneratorContextManager": "gen"}

    def python_wait(self, wait, frames):
        """The wait of a thread whose innermost Python frame is _RLock.acquire on the lock it
        blocks on: that RLock's; else `wait` as it is. frames: the thread's Python frames as
        Frames27 gives them (innermost first, locals as (name, kind, address))."""
        if not wait or wait.get("kind") != "lock" or not frames:
            return wait
        top = frames[0]
        if top["function"] != "acquire":
            return wait
        o = self.objects
        for name, _kind, addr in top["locals"]:
            if name != "self":
                continue
            try:
                d = o.describe(addr)
                if d[0] != "instance" or d[1] not in self.PY_LOCK_CLASSES:
                    return wait
                if o.instance_attr(addr, "_RLock__block") != wait["address"]:
                    return wait
                owner = o.describe(o.instance_attr(addr, "_RLock__owner"))
                count = o.describe(o.instance_attr(addr, "_RLock__count"))
            except (BadRead, ValueError):
                return wait
            return {
                "kind": "rlock",
                "address": addr,
                "owner_ident": owner[1] & (1 << 64) - 1 if owner[0] == "int" else None,
                "count": count[1] if count[0] == "int" else None,
            }
        return wait
