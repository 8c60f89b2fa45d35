"""Where the heap is from 3.6 to 3.10, for the census (read on 3.9).

What differs from 3.11:
- no static objects block (_PyRuntime.global_objects is 3.11's): from 3.9 on, the small ints,
  the one-character strs and bytes and the empty str, tuple and bytes are allocated on the heap at
  start-up (the interpreter keeps pointers to them, e.g. interp->small_ints), so the census finds
  them in pymalloc like any object. Only types and a few singletons (None, True, ...) live in the
  image, and the census takes those from the type table. 3.8 keeps its small ints in a static
  array of objects (small_ints in Objects/longobject.c): Heap38 gives it as a static region.
- pymalloc: up to 3.9, 256 KiB arenas of 4 KiB pools (Objects/obmalloc.c: ARENA_SIZE 1 << 18,
  POOL_SIZE 1 << 12); 3.10 on a 64-bit build already has 3.11's radix tree and its 1 MiB arenas
  of 16 KiB pools. Alignment 16 and threshold 512 from 3.8 on, as 3.11.
- the collector's state: interp->gc from 3.9 on (as 3.11), _PyRuntime.gc in 3.8.
The 16-byte PyGC_Head, tracked when _gc_next is not 0, is 3.8's on. Before it is a 32-byte union
(with a long double) whose gc_refs, shifted by one bit, is -2 for an untracked object; pymalloc
aligns to 8 (PymallocFromCore reads it).
"""
import gdb

from coroner_layouts.heap import Heap311, PymallocFromCore, StaticCollector
from coroner_mem import field_path_offset


class Heap310(Heap311):
    """3.10 (checked on a pyenv 3.10.13 core): 3.11's arenas, no static objects block."""

    def static_regions(self, warn):
        return []


class Heap39(Heap310):
    ARENA_SIZE = 1 << 18
    POOL_SIZE = 1 << 12


class Heap38(Heap39):
    """3.8 (checked on a pyenv 3.8.18 core)."""

    def static_regions(self, warn):
        try:
            start = int(gdb.parse_and_eval("(unsigned long)&small_ints"))
            size = int(gdb.parse_and_eval("sizeof(small_ints)"))
            return [{"start": start, "size": size}]
        except gdb.error as e:
            warn("census: the static small ints were not found: %s" % e)
            return []

    def _gc_address(self):
        return self.layout.runtime_addr + field_path_offset("_PyRuntimeState", "gc")


class Heap37(PymallocFromCore, Heap38):
    """3.7 (checked on a pyenv 3.7.16 core): 3.8's small ints and collector state, 2.7's kind of
    GC head."""
    PYMALLOC_ALIGNMENT = 8
    GC_TRACKED_FIELD = "gc_refs"
    GC_UNTRACKED = -2
    GC_REFS_SHIFT = 1


class Heap36(StaticCollector, Heap37):
    """3.6 (checked on a pyenv 3.6.15 core): 3.7's heap, the collector's state in statics."""
