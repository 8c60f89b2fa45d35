"""The 2.7 interpreter's runtime: no _PyRuntime; the interpreters hang off the static interp_head
(Python/pystate.c), each with its thread states from tstate_head, and the GIL is a bare lock
(Python/ceval.c interpreter_lock) whose holder is the thread state in _PyThreadState_Current:
PyEval_SaveThread swaps it to NULL before releasing the lock.

A 2.7 thread state knows its pthread_t (thread_id) but not its LWP: the thread-state records
say lwp 0, and coroner_gdb maps them to threads by the handle libthread_db gives each thread (or,
without libthread_db, by the tid glibc keeps in its struct pthread: pthread_lwp()).
"""
from coroner_mem import BadRead, Layout as CStruct, minimal_symbol

MAX_INTERPRETERS = 1000
MAX_THREAD_STATES = 100000


class Runtime27:
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
        self._pthread_tid = False  # looked up on first use: None when glibc's debug info is missing

    def interpreters(self):
        """Interpreter state addresses, newest first (the main interpreter is the last)."""
        out = []
        seen = set()
        interp = self.mem.u64(self.addr)
        while interp and interp not in seen and len(out) < MAX_INTERPRETERS:
            seen.add(interp)
            out.append(interp)
            interp = self.mem.u64(interp + self.is_["next"])
        return out

    def thread_states(self, warn):
        """[{"addr", "interp", "lwp", "ident"}]; lwp is the tid in the pthread, or 0 when unknown."""
        out = []
        try:
            interps = self.interpreters()
        except BadRead as e:
            warn("cannot read the interpreter list: %s" % e)
            return out
        for interp in interps:
            seen = set()
            try:
                ts = self.mem.u64(interp + self.threads_head)
                while ts and ts not in seen and len(seen) < MAX_THREAD_STATES:
                    seen.add(ts)
                    ident = self.mem.u64(ts + self.ts["thread_id"])
                    out.append({"addr": ts, "interp": interp, "lwp": self.pthread_lwp(ident), "ident": ident})
                    ts = self.mem.u64(ts + self.ts["next"])
            except BadRead as e:
                warn("cannot read the thread states of interpreter 0x%x: %s" % (interp, e))
        return out

    def pthread_lwp(self, ident):
        """The kernel thread id glibc keeps in the struct pthread at `ident` (a pthread_t), or 0."""
        if self._pthread_tid is False:
            try:
                self._pthread_tid = CStruct("struct pthread")["tid"]
            except Exception:  # noqa: BLE001 - gdb.error or KeyError: no libc debug info
                self._pthread_tid = None
        if self._pthread_tid is None or not ident:
            return 0
        try:
            tid = self.mem.i32(ident + self._pthread_tid)
        except BadRead:
            return 0
        return tid if tid > 0 else 0

    def gil(self):
        """(locked, address of the thread state holding it)."""
        if self.current is None:
            raise BadRead(0, 0)
        holder = self.mem.u64(self.current)
        if holder % 8 or holder >= self.mem.MAX_ADDR:
            raise BadRead(holder, 0)
        return holder != 0, holder
