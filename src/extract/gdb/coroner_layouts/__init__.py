"""The CPython versions coroner reads, each a combination of feature modules.

A feature is one class that reads one part of the interpreter; a version picks one class per
feature, and versions that share a part share its class. The features, in the order a
Layout builds them (each may use the ones before it through the layout):

  runtime   interpreters, thread states, the GIL         interpreters() thread_states(warn) gil() is_ ts
  objects   object decoders, dict keys, types           describe(addr) str_value() dict_items() ...
  frames    Python frames of a thread state             python_frames(tstate, warn) EVAL_FRAME_FUNCTIONS
  names     thread names, sys.orig_argv, sys.hexversion thread_names(warn) argv(warn) sys_hexversion()
  locks     what a native frame blocked on a lock waits on   lock_wait(function, gdb_frame)
  heap      where the heap is and how to read it (the census)  heap_info(warn)
  tasks     asyncio tasks, their coroutine chains, the loops  tasks(warn, repr_of) (None: not read)

Constructors take the layout and look up what DWARF says; a gdb.error or KeyError from them
means the debug info does not match the version. The heap feature looks nothing up until
heap_info(), so that a heap that cannot be described costs only the census.

A runtime class may name the symbol its layout's runtime_addr is (ANCHOR: _PyRuntime unless it
says otherwise; 2.7's is interp_head) and the types without which the debug info is missing
(DEBUG_TYPES); detection finds the anchor first and reads the version with the layouts of that
anchor only.

To support another version: write the classes of the features that differ (subclassing the
nearest version's where only some constants or methods change) and add a line to VERSIONS.
This module and versions.py and linetable.py import no gdb.
"""
import importlib

# Where a runtime class finds the interpreter (its ANCHOR), and the types it needs (DEBUG_TYPES),
# unless it says otherwise: 3.7 on keep everything in _PyRuntime.
DEFAULT_ANCHOR = "_PyRuntime"
DEFAULT_DEBUG_TYPES = ("PyObject", "_PyRuntimeState")

FEATURES = ("runtime", "objects", "frames", "names", "locks", "heap", "tasks")

# (major, minor) -> (layout name, {feature: "module.Class" inside this package})
VERSIONS = {
    (3, 11): ("cpython-3.11", {
        "runtime": "runtime.Runtime311",
        "objects": "objects.Objects311",
        "frames": "frames_311.Frames311",
        "names": "names.Names",
        "locks": "locks.Locks",
        "heap": "heap.Heap311",
        "tasks": "tasks.Tasks311",
    }),
    (2, 7): ("cpython-2.7", {
        "runtime": "runtime_27.Runtime27",
        "objects": "objects_27.Objects27",
        "frames": "frames_27.Frames27",
        "names": "names_27.Names27",
        "locks": "locks_27.Locks27",
        "heap": "heap_27.Heap27",
        "tasks": "tasks.NoTasks",
    }),
    (3, 12): ("cpython-3.12", {
        "runtime": "runtime_312.Runtime312",
        "objects": "objects_312.Objects312",
        "frames": "frames_312.Frames312",
        "names": "names_312.Names312",
        "locks": "locks.Locks",
        "heap": "heap_312.Heap312",
        "tasks": "tasks.Tasks312",
    }),
    (3, 13): ("cpython-3.13", {
        "runtime": "runtime_312.Runtime312",
        "objects": "objects_313.Objects313",
        "frames": "frames_313.Frames313",
        "names": "names_312.Names312",
        "locks": "locks_313.Locks313",
        "heap": "heap_313.Heap313",
        "tasks": "tasks.Tasks313",
    }),
    # The "<= 3.10" family: PyFrameObject frames, 'sized' dict keys, no managed dicts, the 16-byte
    # PyGC_Head. 3.9 is read on real cores (Debian 3.9.2), 3.10 and 3.8 on pyenv builds (3.10.13, 3.8.18).
    (3, 10): ("cpython-3.10", {
        "runtime": "runtime_310.Runtime310",
        "objects": "objects_310.Objects310",
        "frames": "frames_310.Frames310",
        "names": "names.Names",
        "locks": "locks.Locks",
        "heap": "heap_310.Heap310",
        "tasks": "tasks.NoTasks",
    }),
    (3, 9): ("cpython-3.9", {
        "runtime": "runtime_310.Runtime310",
        "objects": "objects_310.Objects310",
        "frames": "frames_310.Frames39",
        "names": "names_310.Names39",
        "locks": "locks.Locks",
        "heap": "heap_310.Heap39",
        "tasks": "tasks.NoTasks",
    }),
    (3, 6): ("cpython-3.6", {
        "runtime": "runtime_310.Runtime36",
        "objects": "objects_310.Objects310",
        "frames": "frames_310.Frames39",
        "names": "names_310.Names37",
        "locks": "locks.Locks",
        "heap": "heap_310.Heap36",
        "tasks": "tasks.NoTasks",
    }),
    (3, 7): ("cpython-3.7", {
        "runtime": "runtime_310.Runtime310",
        "objects": "objects_310.Objects310",
        "frames": "frames_310.Frames39",
        "names": "names_310.Names37",
        "locks": "locks.Locks",
        "heap": "heap_310.Heap37",
        "tasks": "tasks.NoTasks",
    }),
    (3, 8): ("cpython-3.8", {
        "runtime": "runtime_310.Runtime310",
        "objects": "objects_310.Objects310",
        "frames": "frames_310.Frames39",
        "names": "names_310.Names38",
        "locks": "locks.Locks",
        "heap": "heap_310.Heap38",
        "tasks": "tasks.NoTasks",
    }),
}


def supported():
    return ", ".join("%d.%d" % v for v in sorted(VERSIONS))


class Combination:
    """One version's choice of feature classes; calling it builds a Layout."""

    def __init__(self, name, classes):
        self.name = name
        self.classes = classes

    def anchor(self):
        """The symbol whose address is the layout's runtime_addr."""
        return getattr(self.classes["runtime"], "ANCHOR", DEFAULT_ANCHOR)

    def debug_types(self):
        """Types whose absence from DWARF means the interpreter's debug info is missing."""
        return getattr(self.classes["runtime"], "DEBUG_TYPES", DEFAULT_DEBUG_TYPES)

    def __call__(self, mem, runtime_addr, hexversion):
        return Layout(self, mem, runtime_addr, hexversion)


class Layout:
    """The readers of one process: .runtime .objects .frames .names .locks .heap .tasks."""

    def __init__(self, combination, mem, runtime_addr, hexversion):
        self.name = combination.name
        self.mem = mem
        self.runtime_addr = runtime_addr
        self.hexversion = hexversion
        for feature in FEATURES:
            setattr(self, feature, combination.classes[feature](self))


def _class(spec):
    module, _, cls = spec.rpartition(".")
    return getattr(importlib.import_module(__name__ + "." + module), cls)


def load(major, minor):
    """The Combination for a version, or None when coroner does not read it."""
    entry = VERSIONS.get((major, minor))
    if entry is None:
        return None
    name, features = entry
    return Combination(name, {f: _class(features[f]) for f in FEATURES})


def combinations(anchor=None):
    """Every distinct combination, newest version first: the candidates when the version is
    not known yet and each is tried on the core. With `anchor`, only those whose runtime is
    found from that symbol (anchor())."""
    out = []
    seen = set()
    for major, minor in sorted(VERSIONS, reverse=True):
        name = VERSIONS[(major, minor)][0]
        if name not in seen:
            seen.add(name)
            combination = load(major, minor)
            if anchor is None or combination.anchor() == anchor:
                out.append(combination)
    return out


def anchors():
    """The symbols a runtime is found from, each once: _PyRuntime (3.7 on), interp_head (before)."""
    out = []
    for combination in combinations():
        if combination.anchor() not in out:
            out.append(combination.anchor())
    return out
