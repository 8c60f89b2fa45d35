"""coroner's gdb-side extractor: runs inside gdb (Python 3) on one core of a CPython process.

    gdb -nx -batch ... -ex 'python import coroner_gdb; coroner_gdb.main("/tmp/out.json")' EXE CORE

main() writes one JSON document (RawExtraction in src/model/types.ts) to the given path, or
{"error": {"kind", "message"}} when the core cannot be read as a Python process at all.
It never raises. Version-specific knowledge lives in coroner_layouts/; this file does the gdb
side (threads, native frames) and assembles the document.
"""
import json
import os
import re
import sys

import gdb

# Nothing of ours is cached next to the sources (the directory may be read-only or a checkout).
sys.dont_write_bytecode = True

import coroner_layouts
from coroner_mem import BadRead, Memory
from coroner_repr import ReprEngine

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
    except BaseException as e:  # noqa: B036 - the contract is to never raise
        doc = {"error": {"kind": "internal", "message": _one_line(e)}}
    try:
        text = json.dumps(doc, ensure_ascii=True, separators=(",", ":"))
    except BaseException as e:  # noqa: B036
        text = json.dumps({"error": {"kind": "internal", "message": "cannot encode the result: " + _one_line(e)}})
    try:
        tmp = out_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, out_path)
    except BaseException:  # noqa: B036 - nowhere left to report to; the caller sees no file
        pass


# ------------------------------------------------------------------------------ detection


def symbol_address(name):
    """Address of a global or static symbol (debug or minimal), or None."""
    try:
        return int(gdb.parse_and_eval("(unsigned long)&%s" % name))
    except (gdb.error, RuntimeError, ValueError, OverflowError):
        return None


def _object_file_of(addr):
    try:
        lib = gdb.solib_name(addr)
    except (gdb.error, RuntimeError):
        lib = None
    return lib or gdb.current_progspace().filename or "the executable"


def _version_from_file_names():
    """(major, minor) guessed from python/libpython file names gdb loaded, or None."""
    names = [gdb.current_progspace().filename or ""]
    try:
        names += [o.filename or "" for o in gdb.objfiles()]
    except (gdb.error, RuntimeError):
        pass
    for n in names:
        m = re.search(r"python(\d)\.(\d+)", os.path.basename(n))
        if m:
            return int(m.group(1)), int(m.group(2))
    return None


def version_text(hexversion):
    major = (hexversion >> 24) & 0xFF
    minor = (hexversion >> 16) & 0xFF
    micro = (hexversion >> 8) & 0xFF
    level = (hexversion >> 4) & 0xF
    serial = hexversion & 0xF
    text = "%d.%d.%d" % (major, minor, micro)
    if level != 0xF:
        text += {0xA: "a", 0xB: "b", 0xC: "rc"}.get(level, "?") + str(serial)
    return text


def no_debuginfo_message(runtime, major, minor, detail=None):
    path = _object_file_of(runtime)
    # Debian splits the interpreter (python3.X) from the shared library (libpython3.X).
    base = "libpython%d.%d" % (major, minor) if os.path.basename(path).startswith("libpython") else "python%d.%d" % (major, minor)
    return "debug info for %s %s: apt-get install %s-dbg (same version as %s)" % (
        path, "is incomplete (%s)" % detail if detail else "not found", base, base)


def detect(mem):
    """(runtime address, hexversion, Layout class); raises Fatal."""
    runtime = symbol_address("_PyRuntime")
    py_version = symbol_address("Py_Version")
    if runtime is None:
        if py_version is None and symbol_address("Py_InitializeEx") is None:
            raise Fatal("not-python", "no CPython interpreter found in this process (no _PyRuntime symbol)")
        guess = _version_from_file_names()
        which = "CPython %d.%d" % guess if guess else "this CPython (older than 3.7)"
        raise Fatal("unsupported-version", "%s is not supported (supported: %s)" % (which, coroner_layouts.supported()))
    if py_version is None:
        guess = _version_from_file_names()
        which = "CPython %d.%d" % guess if guess else "this CPython (older than 3.11: no Py_Version)"
        raise Fatal("unsupported-version", "%s is not supported (supported: %s)" % (which, coroner_layouts.supported()))
    try:
        hexversion = mem.u32(py_version)
    except BadRead:
        raise Fatal("internal", "cannot read Py_Version at 0x%x in the core" % py_version)
    major, minor = (hexversion >> 24) & 0xFF, (hexversion >> 16) & 0xFF
    layout_cls = coroner_layouts.load(major, minor)
    if layout_cls is None:
        raise Fatal("unsupported-version", "CPython %s is not supported (supported: %s)" % (
            version_text(hexversion), coroner_layouts.supported()))
    try:
        gdb.lookup_type("PyObject")
        gdb.lookup_type("_PyRuntimeState")
    except gdb.error:
        raise Fatal("no-debuginfo", no_debuginfo_message(runtime, major, minor))
    return runtime, hexversion, layout_cls


# ------------------------------------------------------------------------------ native side


def native_frames(layout, warn, thread_label):
    """(frames, waits_on) of the selected thread, innermost first."""
    frames = []
    waits_on = None
    exe = gdb.current_progspace().filename
    try:
        f = gdb.newest_frame()
    except gdb.error as e:
        warn("%s: no stack: %s" % (thread_label, _one_line(e)))
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
                    waits_on = layout.lock_wait(name, f)
                except Exception as e:  # noqa: BLE001
                    warn("%s: cannot read the lock in %s: %s" % (thread_label, name, _one_line(e)))
            f = f.older()
        except gdb.error as e:
            warn("%s: native unwinding stopped: %s" % (thread_label, _one_line(e)))
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
    runtime, hexversion, layout_cls = detect(mem)
    try:
        layout = layout_cls(mem, runtime, hexversion)
    except gdb.error as e:
        raise Fatal("no-debuginfo", no_debuginfo_message(runtime, (hexversion >> 24) & 0xFF, (hexversion >> 16) & 0xFF, _one_line(e)))
    except KeyError as e:
        raise Fatal("internal", "the debug info of CPython %s does not match layout %s: no member %s" % (
            version_text(hexversion), layout_cls.name, e))
    engine = ReprEngine(layout, warn)

    try:
        gil_locked, gil_last = layout.gil()
    except BadRead as e:
        warn("cannot read the GIL state: %s" % e)
        gil_locked, gil_last = False, 0
    gil_holder = gil_last if gil_locked else 0

    states = layout.thread_states(warn)
    by_lwp = {}
    for st in states:
        by_lwp.setdefault(st["lwp"], []).append(st)
    try:
        names = layout.thread_names(warn)
    except (BadRead, ValueError) as e:
        warn("cannot read thread names: %s" % e)
        names = {}

    try:
        original = gdb.selected_thread()
    except gdb.error:
        original = None
    threads = []
    matched = set()
    for th in sorted(inferior.threads(), key=lambda t: t.num):
        lwp = th.ptid[1] or th.ptid[0]
        label = "thread %d (LWP %d)" % (th.num, lwp)
        entry = {"num": th.num, "lwp": lwp, "ident": None, "name": None, "thread_object": None, "holds_gil": False, "sp": None,
                 "native_frames": [], "python_frames": [], "waits_on": None}
        threads.append(entry)
        try:
            th.switch()
            entry["sp"] = _stack_pointer()
            natives, waits_on = native_frames(layout, warn, label)
            entry["native_frames"] = natives
            entry["waits_on"] = waits_on
        except Exception as e:  # noqa: BLE001
            warn("%s: cannot unwind: %s" % (label, _one_line(e)))
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
            frames = layout.python_frames(st["addr"], warn)
        except Exception as e:  # noqa: BLE001
            warn("%s: cannot read Python frames: %s" % (label, _one_line(e)))
            frames = []
        py_frames = []
        for fr in frames:
            local_list = []
            for name, kind, addr in fr["locals"]:
                local_list.append({"name": name, "kind": kind, "repr": engine.repr(addr)})
            py_frames.append({"function": fr["function"], "file": fr["file"], "line": fr["line"],
                              "native_index": -1, "is_entry": fr["is_entry"], "locals": local_list})
        assign_native_indexes(py_frames, natives, layout.EVAL_FRAME_FUNCTIONS)
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
            "version": version_text(hexversion),
            "hexversion": hexversion,
            "layout": layout.name,
            "gil_holder": gil_holder,
            "gil_locked": bool(gil_locked),
            "argv": layout.argv(warn),
        },
        "heap": _heap(layout, warn),
        "threads": threads,
        "warnings": warnings,
    }


def _heap(layout, warn):
    try:
        return layout.heap_info(warn)
    except Exception as e:  # noqa: BLE001 - the threads are worth having without the census
        warn("cannot describe the heap for the census: %s" % _one_line(e))
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


def _one_line(e):
    text = ("%s: %s" % (type(e).__name__, e)).strip()
    lines = text.splitlines()
    return lines[0] if lines else type(e).__name__
