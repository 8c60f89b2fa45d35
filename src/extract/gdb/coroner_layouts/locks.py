"""Lock waits: what a thread blocked in a lock's acquire waits on, read from the `self`
argument of the C function it blocks in (Modules/_threadmodule.c)."""
import gdb

from coroner_mem import BadRead, Layout as CStruct


class Locks:
    LOCK_ACQUIRE = "lock_PyThread_acquire_lock"
    RLOCK_ACQUIRE = "rlock_acquire"

    def __init__(self, layout):
        self.mem = layout.mem
        self._rlock = None  # looked up on the first RLock wait: most cores have none

    def lock_wait(self, function, frame):
        """{"kind", "address", "owner_ident", "count"} for a native frame blocked on a lock, or None."""
        if function == self.LOCK_ACQUIRE:
            self_addr = _frame_self(frame)
            if self_addr:
                return {"kind": "lock", "address": self_addr, "owner_ident": None, "count": None}
        elif function == self.RLOCK_ACQUIRE:
            self_addr = _frame_self(frame)
            if self_addr:
                if self._rlock is None:
                    self._rlock = CStruct("rlockobject")
                rl = self._rlock
                owner = count = None
                try:
                    owner = self.mem.u64(self_addr + rl["rlock_owner"])
                    count = self.mem.u64(self_addr + rl["rlock_count"])
                except BadRead:
                    pass
                return {"kind": "rlock", "address": self_addr, "owner_ident": owner, "count": count}
        return None


def _frame_self(frame):
    try:
        v = frame.read_var("self")
        if v.is_optimized_out:
            return 0
        return int(v)
    except (gdb.error, ValueError, RuntimeError):
        return 0
