"""The 2.7 interpreter's runtime: no _PyRuntime; the interpreters hang off the static interp_head
(Python/pystate.c), each with its thread states from tstate_head, and the GIL is a bare lock
(Python/ceval.c interpreter_lock) whose holder is the thread state in _PyThreadState_Current:
PyEval_SaveThread swaps it to NULL before releasing the lock.

A 2.7 thread state knows its pthread_t (thread_id) but not its LWP: the thread-state records
say lwp 0, and coroner_gdb maps them to threads by the handle libthread_db gives each thread (or,
without libthread_db, by the tid glibc keeps in its struct pthread: PthreadLwp).
"""
from coroner_layouts.runtime import PthreadLwp, Runtime311
from coroner_mem import BadRead, Layout as CStruct, minimal_symbol


class Runtime27(PthreadLwp, Runtime311):
    # What detection looks for in place of _PyRuntime, and the types without which DWARF is missing.
    ANCHOR = "interp_head"
    DEBUG_TYPES = ("PyObject", "PyThreadState", "PyInterpreterState")

    def __init__(self, layout):
        self.mem = layout.mem
        # layout.runtime_addr is the address of the interp_head variable.
        self.addr = layout.runtime_addr
        self.is_ = CStruct("PyInterpreterState")
        self.threads_head = self.is_["tstate_head"]
        self.ts = CStruct("PyThreadState")
        self.current = minimal_symbol("_PyThreadState_Current")

    def first_interp_at(self):
        # layout.runtime_addr is the address of the interp_head variable itself.
        return self.addr

    def gil_words(self):
        """The holder is the thread state in _PyThreadState_Current, locked while there is one."""
        if self.current is None:
            raise BadRead(0, 0)
        holder = self.mem.u64(self.current)
        return holder != 0, holder
