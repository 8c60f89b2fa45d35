"""Lock waits of 3.13: a _thread.lock is a PyMutex inside the lock object (lockobject.lock), and
lock_PyThread_acquire_lock blocks in _PyMutex_LockTimed(&self->lock, ...). Both are often
inlined into one frame whose `self` is optimized out; the mutex argument `m` of the inner one
still says where the lock is. RLocks block as in 3.11 (rlock_acquire, `self` readable).
"""
import gdb

from coroner_layouts.locks import Locks, _frame_self
from coroner_mem import Layout as CStruct


class Locks313(Locks):
    MUTEX_LOCK = "_PyMutex_LockTimed"

    def __init__(self, layout):
        Locks.__init__(self, layout)
        self._mutex_offset = None

    def lock_wait(self, function, frame):
        if function != self.LOCK_ACQUIRE:
            return Locks.lock_wait(self, function, frame)
        self_addr = _frame_self(frame) or self._self_from_mutex(frame)
        if not self_addr:
            return None
        return {"kind": "lock", "address": self_addr, "owner_ident": None, "count": None}

    def _self_from_mutex(self, frame):
        """The lock object whose mutex the frame just inside this one (_PyMutex_LockTimed) waits on."""
        try:
            inner = frame.newer()
            if inner is None or inner.name() != self.MUTEX_LOCK:
                return 0
            m = inner.read_var("m")
            if m.is_optimized_out:
                return 0
            if self._mutex_offset is None:
                self._mutex_offset = CStruct("lockobject")["lock"]
            return int(m) - self._mutex_offset
        except (gdb.error, ValueError, RuntimeError, KeyError):
            return 0
