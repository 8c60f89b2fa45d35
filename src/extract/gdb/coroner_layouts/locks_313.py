"""Lock waits of 3.13: a _thread.lock is a PyMutex inside the lock object (lockobject.lock), and
lock_PyThread_acquire_lock blocks in _PyMutex_LockTimed(&self->lock, ...), which parks in
_PyParkingLot_Park(&self->lock, ...). The first two are often inlined into one frame whose
`self` (and even `m`) are optimized out; the mutex's address in the frames inside still says
where the lock is. RLocks block as in 3.11 (rlock_acquire, `self` readable).
"""
import gdb

from coroner_layouts.locks import Locks, _frame_self
from coroner_mem import BadRead, Layout as CStruct


class Locks313(Locks):
    # The frames inside lock_PyThread_acquire_lock that name the mutex, and the argument that
    # does: _PyMutex_LockTimed(m, ...) (inlined: often optimized out), then the call it makes,
    # _PyParkingLot_Park(addr, ...), whose addr is the mutex too.
    MUTEX_ARGS = (("_PyMutex_LockTimed", "m"), ("_PyParkingLot_Park", "addr"))
    MAX_INNER = 6

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
        """The lock object whose mutex (lockobject.lock) a frame inside this one waits on."""
        if self._mutex_offset is None:
            try:
                self._mutex_offset = CStruct("lockobject")["lock"]
            except (gdb.error, KeyError):
                return 0
        wanted = dict(self.MUTEX_ARGS)
        try:
            inner = frame.newer()
            for _ in range(self.MAX_INNER):
                if inner is None:
                    break
                var = wanted.get(inner.name())
                if var:
                    v = inner.read_var(var)
                    if not v.is_optimized_out:
                        addr = int(v) - self._mutex_offset
                        if self._is_lock(addr):
                            return addr
                inner = inner.newer()
        except (gdb.error, ValueError, RuntimeError):
            pass
        return 0

    def _is_lock(self, addr):
        try:
            info = self.objects.type_info(self.mem.u64(addr + self.objects.ob["ob_type"]))
        except BadRead:
            return False
        return info is not None and info[1].endswith("lock")
