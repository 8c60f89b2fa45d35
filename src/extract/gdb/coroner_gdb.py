"""coroner's gdb-side extractor: runs inside gdb (Python 3) on one core of a CPython process.

    gdb -nx -batch ... -ex 'python import coroner_gdb; coroner_gdb.main("/tmp/out.json")' EXE CORE

main() writes one JSON document (RawExtraction in src/model/types.ts) to the given path, or
{"error": {"kind", "message"}} when the core cannot be read as a Python process at all.
It never raises. Version-specific knowledge lives in coroner_layouts/ (one module a feature,
combined per version there); this file finds the version, does the gdb side (threads, native
frames) and assembles the document.
"""
import json
import os
import struct
import sys

import gdb

# Nothing of ours is cached next to the sources (the directory may be read-only or a checkout),
# so our modules are imported only after this line.
sys.dont_write_bytecode = True

import coroner_layouts  # noqa: E402
from coroner_layouts import versions  # noqa: E402
from coroner_mem import BadRead, Layout as CStruct, Memory, field_path_offset, minimal_symbol, symbol_address  # noqa: E402
from coroner_repr import ReprEngine, one_line  # noqa: E402

FORMAT = 1
MAX_NATIVE_FRAMES = 512
MAX_WARNINGS = 200


class Fatal(Exception):
    def __init__(self, kind, message):
        Exception.__init__(self, message)
        self.kind = kind
        self.message = message


def main(out_path):
    try:
        doc = extract()
    except Fatal as e:
        doc = {"error": {"kind": e.kind, "message": e.message}}
    except BaseException as e:  # noqa: B036, BLE001 - the contract is to never raise
        doc = {"error": {"kind": "internal", "message": one_line(e)}}
    try:
        text = json.dumps(doc, ensure_ascii=True, separators=(",", ":"))
    except BaseException as e:  # noqa: B036, BLE001
        text = json.dumps({"error": {"kind": "internal", "message": "cannot encode the result: " + one_line(e)}})
    try:
        tmp = out_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, out_path)
    except BaseException:  # noqa: B036, BLE001 - nowhere left to report to; the caller sees no file
        pass


# ------------------------------------------------------------------------------ detection


def _object_file_of(addr):
    try:
        lib = gdb.solib_name(addr)
    except (gdb.error, RuntimeError):
        lib = None
    return lib or gdb.current_progspace().filename or "the executable"


def _loaded_file_names():
    names = [gdb.current_progspace().filename or ""]
    try:
        names += [o.filename or "" for o in gdb.objfiles()]
    except (gdb.error, RuntimeError):
        pass
    return names


def no_debuginfo_message(runtime, major, minor, detail=None):
    path = _object_file_of(runtime)
    # Debian splits the interpreter (python3.X) from the shared library (libpython3.X).
    base = "libpython%d.%d" % (major, minor) if os.path.basename(path).startswith("libpython") else "python%d.%d" % (major, minor)
    return "debug info for %s %s: apt-get install %s-dbg (same version as %s)" % (
        path, "is incomplete (%s)" % detail if detail else "not found", base, base)


def _free_threaded_objects():
    """"free-threaded CPython" when the debug info's PyObject is a free-threaded build's (with its
    owning thread's id, ob_tid), whatever its files are called; else None."""
    try:
        return "free-threaded CPython" if CStruct("PyObject").has("ob_tid") else None
    except gdb.error:
        return None


def _unsupported(which):
    return Fatal("unsupported-version", "%s is not supported (supported: %s)" % (which, coroner_layouts.supported()))


# What reading a guessed layout's structures out of a core of another version can raise.
_PROBE_ERRORS = (gdb.error, RuntimeError, KeyError, IndexError, BadRead, ValueError, UnicodeError, OverflowError, struct.error)


def read_hexversion(mem, runtime, anchor=coroner_layouts.DEFAULT_ANCHOR):
    """PY_VERSION_HEX from the first place in the core that says it, or None."""
    # Py_Version: 3.11+, exported, so there even without debug info.
    at = symbol_address("Py_Version")
    if at is not None:
        try:
            value = mem.u32(at)
            if versions.plausible_hexversion(value):
                return value
        except BadRead:
            pass
    # 3.13+ starts _PyRuntime with _Py_DebugOffsets: a cookie, then the version.
    if anchor == coroner_layouts.DEFAULT_ANCHOR:
        try:
            at = runtime + field_path_offset("_PyRuntimeState", "debug_offsets")
        except (gdb.error, KeyError):
            at = runtime
        try:
            value = versions.hexversion_from_debug_offsets(mem.read(at, 16))
            if value is not None:
                return value
        except BadRead:
            pass
    # sys.hexversion, through each layout found from the same symbol in turn: one that does not
    # match the core's structures fails to read the sys dict, or reads no plausible version.
    for combination in coroner_layouts.combinations(anchor):
        try:
            value = combination(mem, runtime, None).names.sys_hexversion()
        except _PROBE_ERRORS:
            continue
        if value is not None:
            return value
    return None


def find_runtime():
    """(address, anchor): _PyRuntime (3.7 on), else what an older version's layout is found from
    (2.7: interp_head, a static only the debug info's symbol table names); (None, None)."""
    runtime = symbol_address(coroner_layouts.DEFAULT_ANCHOR)
    if runtime is not None:
        return runtime, coroner_layouts.DEFAULT_ANCHOR
    for anchor in coroner_layouts.anchors():
        if anchor != coroner_layouts.DEFAULT_ANCHOR:
            at = minimal_symbol(anchor)
            if at is not None:
                return at, anchor
    return None, None


def detect(mem, warn):
    """(runtime address, hexversion, version text, Combination); raises Fatal."""
    # Told first: a free-threaded build has a _PyRuntime that the layouts of its version would
    # misread, and PyPy has no runtime to find at all.
    other = versions.other_interpreter(_loaded_file_names()) or _free_threaded_objects()
    if other:
        raise _unsupported(other)
    runtime, anchor = find_runtime()
    if runtime is None:
        if symbol_address("Py_Version") is None and symbol_address("Py_InitializeEx") is None:
            raise Fatal("not-python", "no CPython interpreter found in this process (no _PyRuntime symbol)")
        guess = versions.version_from_file_names(_loaded_file_names())
        if guess is not None and coroner_layouts.load(*guess) is not None:
            # A version coroner reads whose runtime symbol is missing: only the debug info has it.
            where = symbol_address("Py_InitializeEx") or symbol_address("Py_Version")
            raise Fatal("no-debuginfo", no_debuginfo_message(where, guess[0], guess[1]))
        raise _unsupported("CPython %d.%d" % guess if guess else "this CPython (older than 3.7)")
    hexversion = read_hexversion(mem, runtime, anchor)
    if hexversion is not None and not versions.plausible_hexversion(hexversion):
        # Every reader checks already; a version no CPython ever had must never reach a message.
        hexversion = None
    guess = None
    if hexversion is not None:
        major, minor = versions.major_minor(hexversion)
        text = versions.version_text(hexversion)
    else:
        guess = versions.version_from_file_names(_loaded_file_names())
        if guess is None:
            raise _unsupported("this CPython (its version is in neither Py_Version, _PyRuntime.debug_offsets, "
                               "sys.hexversion nor a pythonX.Y file name)")
        # The micro version is unknown: the text says only what is known.
        major, minor = guess
        hexversion = versions.make_hexversion(major, minor)
        text = "%d.%d" % guess
    combination = coroner_layouts.load(major, minor)
    if combination is None:
        raise _unsupported("CPython " + text)
    if guess is not None:
        warn("the CPython version was read from file names only: %s" % text)
    try:
        for type_name in combination.debug_types():
            gdb.lookup_type(type_name)
    except gdb.error:
        raise Fatal("no-debuginfo", no_debuginfo_message(runtime, major, minor)) from None
    return runtime, hexversion, text, combination


# ------------------------------------------------------------------------------ native side


def native_frames(layout, warn, thread_label):
    """(frames, waits_on) of the selected thread, innermost first."""
    frames = []
    waits_on = None
    exe = gdb.current_progspace().filename
    try:
        f = gdb.newest_frame()
    except gdb.error as e:
        warn("%s: no stack: %s" % (thread_label, one_line(e)))
        return frames, None
    # gdb stops on a frame identical to the previous one; the cap ends any other loop.
    while f is not None:
        if len(frames) >= MAX_NATIVE_FRAMES:
            warn("%s: native stack cut at %d frames" % (thread_label, MAX_NATIVE_FRAMES))
            break
        try:
            pc = f.pc()
            name = f.name()
            try:
                lib = gdb.solib_name(pc)
            except (gdb.error, RuntimeError):
                lib = None
            if lib is None and name is not None:
                lib = exe
            file = line = None
            try:
                sal = f.find_sal()
                if sal.symtab is not None:
                    file = sal.symtab.filename
                    line = sal.line or None
            except gdb.error:
                pass
            frames.append({"function": name, "library": lib, "file": file, "line": line, "pc": pc})
            if waits_on is None and name is not None:
                try:
                    waits_on = layout.locks.lock_wait(name, f)
                except Exception as e:  # noqa: BLE001
                    warn("%s: cannot read the lock in %s: %s" % (thread_label, name, one_line(e)))
            f = f.older()
        except gdb.error as e:
            warn("%s: native unwinding stopped: %s" % (thread_label, one_line(e)))
            break
    return frames, waits_on


def assign_native_indexes(py_frames, natives, eval_names):
    """Each run of Python frames up to and including an entry frame is run by the next
    evaluation-loop native frame (both lists innermost first)."""
    evals = [i for i, n in enumerate(natives) if n["function"] in eval_names]
    k = 0
    for pf in py_frames:
        pf["native_index"] = evals[k] if k < len(evals) else -1
        if pf["is_entry"]:
            k += 1


# ------------------------------------------------------------------------------ assembly


def extract():
    warnings = []

    def warn(msg):
        if len(warnings) < MAX_WARNINGS:
            warnings.append(msg)
        elif len(warnings) == MAX_WARNINGS:
            warnings.append("more warnings left out")

    inferior = gdb.selected_inferior()
    if not inferior.threads():
        raise Fatal("internal", "gdb found no threads: the core was not loaded (is it a core file of %s?)" % (
            gdb.current_progspace().filename or "this executable"))
    mem = Memory(inferior)
    runtime, hexversion, version, combination = detect(mem, warn)
    try:
        layout = combination(mem, runtime, hexversion)
    except gdb.error as e:
        major, minor = versions.major_minor(hexversion)
        raise Fatal("no-debuginfo", no_debuginfo_message(runtime, major, minor, one_line(e))) from None
    except KeyError as e:
        raise Fatal("internal", "the debug info of CPython %s does not match layout %s: no member %s" % (
            version, combination.name, e)) from None
    engine = ReprEngine(layout.objects, warn)

    try:
        gil_locked, gil_last = layout.runtime.gil()
    except BadRead as e:
        warn("cannot read the GIL state: %s" % e)
        gil_locked, gil_last = False, 0
    gil_holder = gil_last if gil_locked else 0

    states = layout.runtime.thread_states(warn)
    by_lwp = {}
    for st in states:
        by_lwp.setdefault(st["lwp"], []).append(st)
    try:
        names = layout.names.thread_names(warn)
    except (BadRead, ValueError) as e:
        warn("cannot read thread names: %s" % e)
        names = {}

    try:
        original = gdb.selected_thread()
    except gdb.error:
        original = None
    threads = []
    frames_by_lwp = {}
    matched = set()
    for th in sorted(inferior.threads(), key=lambda t: t.num):
        lwp = th.ptid[1] or th.ptid[0]
        label = "thread %d (LWP %d)" % (th.num, lwp)
        entry = {"num": th.num, "lwp": lwp, "ident": None, "name": None, "thread_object": None, "holds_gil": False, "sp": None,
                 "native_frames": [], "python_frames": [], "waits_on": None, "held_locks": []}
        threads.append(entry)
        try:
            th.switch()
            entry["sp"] = _stack_pointer()
            natives, waits_on = native_frames(layout, warn, label)
            entry["native_frames"] = natives
            entry["waits_on"] = waits_on
        except Exception as e:  # noqa: BLE001
            warn("%s: cannot unwind: %s" % (label, one_line(e)))
            natives = entry["native_frames"]
        candidates = [c for c in by_lwp.get(lwp) or () if c["addr"] not in matched]
        if not candidates:
            # A thread state whose native id is stale (e.g. after fork) is still found by its
            # pthread_t, which libthread_db gives as the thread's handle.
            handle = _thread_handle(th)
            candidates = [c for c in states if handle and c["ident"] == handle and c["addr"] not in matched]
        if not candidates:
            continue
        st = candidates[0]
        matched.add(st["addr"])
        entry["ident"] = st["ident"]
        entry["name"], entry["thread_object"] = names.get(st["ident"], (None, None))
        entry["holds_gil"] = bool(gil_locked and gil_last == st["addr"])
        try:
            frames = layout.frames.python_frames(st["addr"], warn)
        except Exception as e:  # noqa: BLE001
            warn("%s: cannot read Python frames: %s" % (label, one_line(e)))
            frames = []
        # A version whose locks are partly Python code (2.7's RLock) tells the wait from the frames.
        python_wait = getattr(layout.locks, "python_wait", None)
        if python_wait is not None and entry["waits_on"]:
            try:
                entry["waits_on"] = python_wait(entry["waits_on"], frames)
            except Exception as e:  # noqa: BLE001
                warn("%s: cannot read the lock its Python frames wait on: %s" % (label, one_line(e)))
        try:
            entry["held_locks"] = layout.locks.held_locks(frames)
            if entry["waits_on"]:
                entry["waits_on"]["condition"] = layout.locks.condition_wait(entry["waits_on"], frames)
        except Exception as e:  # noqa: BLE001
            warn("%s: cannot read the locks its with blocks hold: %s" % (label, one_line(e)))
        frames_by_lwp[lwp] = frames
        py_frames = []
        for fr in frames:
            local_list = []
            for name, kind, addr in fr["locals"]:
                local_list.append({"name": name, "kind": kind, "repr": engine.repr(addr)})
            py_frames.append({"function": fr["function"], "file": fr["file"], "line": fr["line"],
                              "native_index": -1, "is_entry": fr["is_entry"], "locals": local_list})
        assign_native_indexes(py_frames, natives, layout.frames.EVAL_FRAME_FUNCTIONS)
        entry["python_frames"] = py_frames
    for st in states:
        if st["addr"] not in matched:
            warn("thread state 0x%x (LWP %d) has no thread in the core" % (st["addr"], st["lwp"]))
    if original is not None:
        try:
            original.switch()
        except gdb.error:
            pass

    return {
        "format": FORMAT,
        "python": {
            "version": version,
            "hexversion": hexversion,
            "layout": layout.name,
            "gil_holder": gil_holder,
            "gil_locked": bool(gil_locked),
            "argv": layout.names.argv(warn),
        },
        "heap": _heap(layout, warn),
        "threads": threads,
        **_tasks(layout, engine, threads, frames_by_lwp, warn),
        "warnings": warnings,
    }


def _heap(layout, warn):
    try:
        return layout.heap.heap_info(warn)
    except Exception as e:  # noqa: BLE001 - the threads are worth having without the census
        warn("cannot describe the heap for the census: %s" % one_line(e))
        return None


# ------------------------------------------------------------------------------ asyncio


def _tasks(layout, engine, threads, frames_by_lwp, warn):
    """{"tasks", "loops"}: the asyncio tasks (None when this version's are not read, or asyncio
    is not imported), each chain frame's locals as repr; each loop with the thread that runs it
    (its _thread_id, else the thread whose _run_once / run_forever has it as self)."""
    try:
        found = layout.tasks.tasks(warn, engine.repr)
    except Exception as e:  # noqa: BLE001 - the threads are worth having without the tasks
        warn("cannot read the asyncio tasks: %s" % one_line(e))
        found = None
    if found is None:
        return {"tasks": None, "loops": None}
    try:
        executor = layout.tasks.executor_futures(frames_by_lwp)
    except Exception as e:  # noqa: BLE001 - the tasks are worth having without their executor threads
        warn("cannot tell which threads run the executor work tasks wait on: %s" % one_line(e))
        executor = {}
    for task in found["tasks"]:
        for fr in task["chain"]:
            fr["locals"] = [{"name": n, "kind": k, "repr": engine.repr(a)} for n, k, a in fr["locals"]]
        waiter = task["fut_waiter"]
        if waiter:
            waiter["executor_lwp"] = executor.get(waiter["address"])
    by_ident = {t["ident"]: t for t in threads if t["ident"]}
    for loop in found["loops"]:
        loop["thread_lwp"] = None
        loop["select_started_at"] = None
        thread = by_ident.get(loop["thread_ident"])
        for lwp, frames in frames_by_lwp.items():
            for fr in frames:
                if fr["function"] not in ("_run_once", "run_forever"):
                    continue
                own = {n: a for n, _k, a in fr["locals"]}
                if own.get("self") != loop["address"]:
                    continue
                if thread is None:
                    thread = next((t for t in threads if t["lwp"] == lwp), None)
                if fr["function"] == "_run_once":
                    loop["select_started_at"] = _select_start(layout.objects, own)
        if thread is not None:
            loop["thread_lwp"] = thread["lwp"]
    return found


def _select_start(objects, own):
    """The loop's time() when _run_once computed its select timeout (when - timeout): what
    asyncio.sleep deadlines can be told against, or None."""
    when = objects.describe(own.get("when", 0))
    timeout = objects.describe(own.get("timeout", 0))
    if when[0] == "float" and timeout[0] in ("float", "int") and timeout[1] is not None:
        return when[1] - timeout[1]
    return None


def _stack_pointer():
    """The selected thread's stack pointer: where its stack is, for the memory accounting."""
    try:
        return int(gdb.newest_frame().read_register("sp")) & ((1 << 64) - 1)
    except (gdb.error, RuntimeError, ValueError):
        return None


def _thread_handle(th):
    try:
        h = th.handle()
        return int.from_bytes(bytes(h), "little") if h else 0
    except (gdb.error, AttributeError, TypeError, ValueError, RuntimeError):
        return 0
