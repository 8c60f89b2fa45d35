"""The runtime of 3.8 to 3.10: interpreters, thread states, the GIL.

What differs from 3.11: an interpreter's thread states start at tstate_head (3.11 keeps them in
threads.head), and a thread state has no native_thread_id (3.11 added it), only thread_id, the
pthread_t. The LWP is read from glibc's struct pthread at that address (its tid) when the C
library's debug info describes it; otherwise it is 0, and the extractor matches the thread by
its pthread_t (gdb's thread handle). The GIL is _PyRuntime.ceval.gil as in 3.11.
"""
import gdb

from coroner_layouts.runtime import MAX_THREAD_STATES, Runtime311
from coroner_mem import BadRead, Layout as CStruct, field_path_offset


class Runtime310(Runtime311):
    THREADS_HEAD = "tstate_head"

    def __init__(self, layout):
        # Not Runtime311.__init__: it looks up threads.head, which does not exist here.
        self.mem = layout.mem
        self.addr = layout.runtime_addr
        self.interp_head = field_path_offset("_PyRuntimeState", "interpreters.head")
        self.gil_locked = field_path_offset("_PyRuntimeState", self.GIL_PATH + ".locked")
        self.gil_holder = field_path_offset("_PyRuntimeState", self.GIL_PATH + ".last_holder")
        self.is_ = CStruct("PyInterpreterState")
        self.threads_head = field_path_offset("PyInterpreterState", self.THREADS_HEAD)
        self.ts = CStruct("PyThreadState")
        try:
            self.pthread_tid = CStruct("struct pthread")["tid"]
        except (gdb.error, KeyError):
            self.pthread_tid = None

    def _lwp(self, ident):
        if self.pthread_tid is None or not ident:
            return 0
        try:
            tid = self.mem.i32(ident + self.pthread_tid)
        except BadRead:
            return 0
        return tid if tid > 0 else 0

    def thread_states(self, warn):
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
                    out.append({"addr": ts, "interp": interp, "lwp": self._lwp(ident), "ident": ident})
                    ts = self.mem.u64(ts + self.ts["next"])
            except BadRead as e:
                warn("cannot read the thread states of interpreter 0x%x: %s" % (interp, e))
        return out
