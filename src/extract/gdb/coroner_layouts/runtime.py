"""The interpreter's runtime: interpreters, their thread states, and the GIL.

Runtime311 reads the 3.11 arrangement, where the GIL is global (_PyRuntime.ceval.gil, as in
3.9 and 3.10); a version that moves it (3.12 keeps one per interpreter) overrides gil().
"""
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

    def interpreters(self):
        """Interpreter state addresses, newest first (the main interpreter is the last)."""
        out = []
        seen = set()
        interp = self.mem.u64(self.addr + self.interp_head)
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
                    out.append({
                        "addr": ts,
                        "interp": interp,
                        "lwp": self.mem.u64(ts + self.ts["native_thread_id"]),
                        "ident": self.mem.u64(ts + self.ts["thread_id"]),
                    })
                    ts = self.mem.u64(ts + self.ts["next"])
            except BadRead as e:
                warn("cannot read the thread states of interpreter 0x%x: %s" % (interp, e))
        return out

    def gil(self):
        """(locked, address of the thread state that last held it)."""
        locked = self.mem.i32(self.addr + self.gil_locked)
        holder = self.mem.u64(self.addr + self.gil_holder)
        if holder % 8 or holder >= self.mem.MAX_ADDR:
            raise BadRead(holder, 0)  # not a thread state address: the runtime state is corrupt
        return bool(locked), holder
