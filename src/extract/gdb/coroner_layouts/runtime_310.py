"""The runtime of 3.6 to 3.10: interpreters, thread states, the GIL.

What differs from 3.11: an interpreter's thread states start at tstate_head (3.11 keeps them in
threads.head), and a thread state has no native_thread_id (3.11 added it), only thread_id, the
pthread_t. The LWP is read from glibc's struct pthread at that address (its tid) when the C
library's debug info describes it; otherwise it is 0, and the extractor matches the thread by
its pthread_t (gdb's thread handle). The GIL is _PyRuntime.ceval.gil as in 3.11.

3.6 has no _PyRuntime (3.7 gathered it): its interpreters hang off the static interp_head as in
2.7, and the GIL is the statics gil_locked and gil_last_holder of Python/ceval_gil.h (atomics
whose value is their first member).
"""
from coroner_layouts.runtime import PthreadLwp, Runtime311
from coroner_layouts.runtime_27 import Runtime27
from coroner_mem import BadRead, Layout as CStruct, field_path_offset, minimal_symbol


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


class Runtime36(Runtime27):
    """3.6 (checked on a pyenv 3.6.15 core): 2.7's anchor and thread states, the 3.x GIL."""

    def gil_words(self):
        locked_at, holder_at = minimal_symbol("gil_locked"), minimal_symbol("gil_last_holder")
        if locked_at is None or holder_at is None:
            raise BadRead(0, 0)
        return self.mem.i32(locked_at), self.mem.u64(holder_at)
