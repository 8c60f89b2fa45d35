"""The runtime of 3.8 to 3.10: interpreters, thread states, the GIL.

What differs from 3.11: an interpreter's thread states start at tstate_head (3.11 keeps them in
threads.head), and a thread state has no native_thread_id (3.11 added it), only thread_id, the
pthread_t. The LWP is read from glibc's struct pthread at that address (its tid) when the C
library's debug info describes it; otherwise it is 0, and the extractor matches the thread by
its pthread_t (gdb's thread handle). The GIL is _PyRuntime.ceval.gil as in 3.11.
"""
from coroner_layouts.runtime import PthreadLwp, Runtime311
from coroner_mem import Layout as CStruct, field_path_offset


class Runtime310(PthreadLwp, Runtime311):
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
