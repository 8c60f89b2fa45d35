"""The runtime of 3.12 on: the GIL belongs to the interpreter (PEP 684).

Each interpreter's ceval.gil points at the GIL it runs under: the main interpreter's own
(interp->_gil), or a shared one. The main interpreter's is the one every thread of a process
without subinterpreters waits on. Interpreters and thread states are linked as in 3.11.
"""
from coroner_layouts.runtime import Runtime311
from coroner_mem import BadRead, Layout as CStruct, field_path_offset


class Runtime312(Runtime311):
    GIL_POINTER_PATH = "ceval.gil"

    def __init__(self, layout):
        self.mem = layout.mem
        self.addr = layout.runtime_addr
        self.interp_head = field_path_offset("_PyRuntimeState", "interpreters.head")
        self.interp_main = field_path_offset("_PyRuntimeState", "interpreters.main")
        self.is_ = CStruct("PyInterpreterState")
        self.threads_head = field_path_offset("PyInterpreterState", "threads.head")
        self.ts = CStruct("PyThreadState")
        self.gil_pointer = field_path_offset("PyInterpreterState", self.GIL_POINTER_PATH)
        gil = CStruct("struct _gil_runtime_state")
        self.gil_locked = gil["locked"]
        self.gil_holder = gil["last_holder"]

    def main_interpreter(self):
        interp = self.mem.u64(self.addr + self.interp_main)
        if interp:
            return interp
        interps = self.interpreters()
        if not interps:
            raise BadRead(self.addr + self.interp_main, 8)
        return interps[-1]

    def gil_words(self):
        """The main interpreter's GIL, which it points to."""
        gil = self.mem.u64(self.main_interpreter() + self.gil_pointer)
        if not gil or gil % 8:
            raise BadRead(gil, 0)
        return self.mem.i32(gil + self.gil_locked), self.mem.u64(gil + self.gil_holder)
