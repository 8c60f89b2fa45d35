"""The interpreter's runtime: interpreters, their thread states, and the GIL.

Runtime311 reads the 3.11 arrangement, where the GIL is global (_PyRuntime.ceval.gil, as in
3.9 and 3.10); a version that moves it (3.12 keeps one per interpreter) overrides gil(). Every
version walks interpreters and thread states the same way; what differs is where the first
interpreter is (first_interp_at), where an interpreter's thread states start (threads_head) and
how a thread state tells its LWP (lwp_of).
"""
import gdb

from coroner_mem import BadRead, Layout as CStruct, field_path_offset

MAX_INTERPRETERS = 1000
MAX_THREAD_STATES = 100000


class Runtime311:
    GIL_PATH = "ceval.gil"

    def __init__(self, layout):
        self.mem = layout.mem
        self.addr = layout.runtime_addr
        self.interp_head = field_path_offset("_PyRuntimeState", "interpreters.head")
        self.gil_locked = field_path_offset("_PyRuntimeState", self.GIL_PATH + ".locked")
        self.gil_holder = field_path_offset("_PyRuntimeState", self.GIL_PATH + ".last_holder")
        self.is_ = CStruct("PyInterpreterState")
        self.threads_head = field_path_offset("PyInterpreterState", "threads.head")
        self.ts = CStruct("PyThreadState")

    def first_interp_at(self):
        """The address of the pointer to the newest interpreter."""
        return self.addr + self.interp_head

    def lwp_of(self, ts, ident):
        """A thread state's kernel thread id (3.11 keeps it: native_thread_id)."""
        return self.mem.u64(ts + self.ts["native_thread_id"])

    def interpreters(self):
        """Interpreter state addresses, newest first (the main interpreter is the last)."""
        out = []
        seen = set()
        interp = self.mem.u64(self.first_interp_at())
        while interp and interp not in seen and len(out) < MAX_INTERPRETERS:
            seen.add(interp)
            out.append(interp)
            interp = self.mem.u64(interp + self.is_["next"])
        return out

    def thread_states(self, warn):
        """[{"addr", "interp", "lwp", "ident"}] of every interpreter's thread states."""
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
                    out.append({"addr": ts, "interp": interp, "lwp": self.lwp_of(ts, ident), "ident": ident})
                    ts = self.mem.u64(ts + self.ts["next"])
            except BadRead as e:
                warn("cannot read the thread states of interpreter 0x%x: %s" % (interp, e))
        return out

    def gil(self):
        """(locked, address of the thread state that last held it)."""
        locked, holder = self.gil_words()
        if holder % 8 or holder >= self.mem.MAX_ADDR:
            raise BadRead(holder, 0)  # not a thread state address: the runtime state is corrupt
        return bool(locked), holder

    def gil_words(self):
        """The GIL's locked flag and last holder as the core has them: _PyRuntime.ceval.gil here."""
        return self.mem.i32(self.addr + self.gil_locked), self.mem.u64(self.addr + self.gil_holder)


class PthreadLwp:
    """Before 3.11 a thread state knows its pthread_t (thread_id) but not its LWP: the kernel thread
    id is the tid glibc keeps in its struct pthread at that address, when the C library's debug
    info describes it; otherwise 0, and the extractor matches the thread by its pthread_t (gdb's
    thread handle)."""

    _pthread_tid = False  # looked up on first use: None when glibc's debug info is missing

    def lwp_of(self, ts, ident):
        if self._pthread_tid is False:
            try:
                self._pthread_tid = CStruct("struct pthread")["tid"]
            except (gdb.error, KeyError):
                self._pthread_tid = None
        if self._pthread_tid is None or not ident:
            return 0
        try:
            tid = self.mem.i32(ident + self._pthread_tid)
        except BadRead:
            return 0
        return tid if tid > 0 else 0
