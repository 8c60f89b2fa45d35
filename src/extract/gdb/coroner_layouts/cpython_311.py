"""CPython 3.11: where things are in memory.

Everything this module knows is specific to 3.11 (struct names, the frame stack of
_PyInterpreterFrame, the location table format, the dict/str/int object layouts, managed
dicts, the GIL state). Offsets and sizes come from DWARF; what DWARF cannot say (flag bits,
enum values, table encodings) is written here as constants from the 3.11 headers.

The interface (shared by every layout module) is the class Layout:
  Layout(mem, runtime_addr, hexversion)
  .name                       "cpython-3.11"
  .thread_states(warn)        [{"addr", "lwp", "ident", "interp"}]
  .gil()                      (locked: bool, holder tstate address or 0)
  .python_frames(tstate, warn)  [{"function", "file", "line", "is_entry", "locals": [(name, kind, addr)]}]
                              innermost first; locals hold object addresses (cells already read)
  .describe(addr)             description of one object for coroner_repr
  .thread_names(warn)         {ident: (name, Thread object address)} from threading._active
  .argv(warn)                 the process's command line as Python saw it (sys.orig_argv), or None
  .lock_wait(frame_name, gdb_frame)  {"kind", "address", "owner_ident", "count"} or None
  .EVAL_FRAME_FUNCTIONS       names of the C functions that run Python frames
  .heap_info(warn)            where the heap is and how to read it, for the census walk (see
                              cpython_311_heap.py for the shape)
"""
import struct

import gdb

from coroner_mem import BadRead, Layout as CStruct, bitfield, field_path_offset

NAME = "cpython-3.11"

# Include/object.h
TPFLAGS_MANAGED_DICT = 1 << 4
TPFLAGS_HEAPTYPE = 1 << 9
TPFLAGS_TYPE_SUBCLASS = 1 << 31
# Include/internal/pycore_code.h
CO_FAST_LOCAL = 0x20
CO_FAST_CELL = 0x40
CO_FAST_FREE = 0x80
# Include/cpython/code.h
CO_VARARGS = 0x04
CO_VARKEYWORDS = 0x08
# Include/internal/pycore_frame.h
FRAME_OWNED_BY_GENERATOR = 1
# Include/internal/pycore_dict.h
DICT_KEYS_GENERAL = 0
DICT_KEYS_SPLIT = 2
# Include/cpython/longintrepr.h
PYLONG_SHIFT = 30
# Include/internal/pycore_code.h: _PyCodeLocationInfoKind
LOC_NONE = 15
LOC_LONG = 14
LOC_NO_COLUMNS = 13
LOC_ONE_LINE0 = 10

MAX_FRAMES = 100000  # a Python stack deeper than this is a corrupt chain
MAX_SCAN = 1 << 20   # most table slots looked at for one container
STR_READ = 1 << 16   # characters of a str read in full (enough to choose quotes like repr does)
PLAUSIBLE_REFCNT = 1 << 48
PLAUSIBLE_SIZE = 1 << 40

_EVAL = ("_PyEval_EvalFrameDefault",)

# Exported or static objects whose addresses identify builtin types and singletons.
_TYPE_SYMBOLS = {
    "PyLong_Type": "int",
    "PyBool_Type": "bool",
    "PyFloat_Type": "float",
    "PyUnicode_Type": "str",
    "PyBytes_Type": "bytes",
    "PyByteArray_Type": "bytearray",
    "PyList_Type": "list",
    "PyTuple_Type": "tuple",
    "PyDict_Type": "dict",
    "PySet_Type": "set",
    "PyFrozenSet_Type": "frozenset",
    "_PyNone_Type": "none",
    "PyFunction_Type": "function",
    "PyModule_Type": "module",
    "PyType_Type": "type",
    "PyCell_Type": "cell",
    "PyCode_Type": "code",
}


def _addr_of(name):
    return int(gdb.parse_and_eval("(unsigned long)&%s" % name))


class Layout:
    name = NAME
    EVAL_FRAME_FUNCTIONS = _EVAL

    def __init__(self, mem, runtime_addr, hexversion):
        self.mem = mem
        self.runtime = runtime_addr
        self.hexversion = hexversion

        self.rt_interp_head = field_path_offset("_PyRuntimeState", "interpreters.head")
        self.rt_gil_locked = field_path_offset("_PyRuntimeState", "ceval.gil.locked")
        self.rt_gil_holder = field_path_offset("_PyRuntimeState", "ceval.gil.last_holder")
        self.is_ = CStruct("PyInterpreterState")
        self.is_threads_head = field_path_offset("PyInterpreterState", "threads.head")
        self.ts = CStruct("PyThreadState")
        self.cf = CStruct("_PyCFrame")
        self.fr = CStruct("_PyInterpreterFrame")
        self.fo = CStruct("PyFrameObject")
        self.co = CStruct("PyCodeObject")
        self.ob = CStruct("PyObject")
        self.var = CStruct("PyVarObject")
        self.tp = CStruct("PyTypeObject")
        self.ht = CStruct("PyHeapTypeObject")
        self.asc = CStruct("PyASCIIObject")
        self.cu = CStruct("PyCompactUnicodeObject")
        self.uo = CStruct("PyUnicodeObject")
        self.lo = CStruct("PyLongObject")
        self.fl = CStruct("PyFloatObject")
        self.by = CStruct("PyBytesObject")
        self.ba = CStruct("PyByteArrayObject")
        self.li = CStruct("PyListObject")
        self.tu = CStruct("PyTupleObject")
        self.di = CStruct("PyDictObject")
        self.dk = CStruct("PyDictKeysObject")
        self.se = CStruct("PySetObject")
        self.mo = CStruct("PyModuleObject")
        self.fn = CStruct("PyFunctionObject")
        self.ce = CStruct("PyCellObject")
        self.entry_general = CStruct("PyDictKeyEntry").size
        self.entry_unicode = CStruct("PyDictUnicodeEntry").size
        self.setentry = CStruct("setentry")

        # PyASCIIObject.state bitfield
        self.st_kind = bitfield("PyASCIIObject", "state", "kind")
        self.st_compact = bitfield("PyASCIIObject", "state", "compact")
        self.st_ascii = bitfield("PyASCIIObject", "state", "ascii")
        self.st_ready = bitfield("PyASCIIObject", "state", "ready")

        self.type_kinds = {}
        for sym, kind in _TYPE_SYMBOLS.items():
            try:
                self.type_kinds[_addr_of(sym)] = kind
            except gdb.error:
                pass
        self.none_addr = _addr_of("_Py_NoneStruct")
        self.true_addr = _addr_of("_Py_TrueStruct")
        self.type_type = _addr_of("PyType_Type")
        self._types = {}
        self._codes = {}
        self._lines = {}
        self._rlock = None

    # ---------------------------------------------------------------- interpreter and threads

    def interpreters(self):
        out = []
        seen = set()
        interp = self.mem.u64(self.runtime + self.rt_interp_head)
        while interp and interp not in seen and len(out) < 1000:
            seen.add(interp)
            out.append(interp)
            interp = self.mem.u64(interp + self.is_["next"])
        return out

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
                ts = self.mem.u64(interp + self.is_threads_head)
                while ts and ts not in seen and len(seen) < 100000:
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
        locked = self.mem.i32(self.runtime + self.rt_gil_locked)
        holder = self.mem.u64(self.runtime + self.rt_gil_holder)
        if holder % 8 or holder >= self.mem.MAX_ADDR:
            raise BadRead(holder, 0)  # not a thread state address: the runtime state is corrupt
        return bool(locked), holder

    # ---------------------------------------------------------------- frames

    def python_frames(self, tstate, warn):
        frames = []
        mem = self.mem
        fr = self.fr
        try:
            cframe = mem.u64(tstate + self.ts["cframe"])
            frame = mem.u64(cframe + self.cf["current_frame"]) if cframe else 0
        except BadRead as e:
            warn("thread state 0x%x: cannot read its current frame: %s" % (tstate, e))
            return frames
        seen = set()
        while frame:
            if frame in seen or len(seen) >= MAX_FRAMES:
                warn("thread state 0x%x: frame chain loops or is too long at 0x%x" % (tstate, frame))
                break
            seen.add(frame)
            try:
                raw = mem.read(frame, fr.size)
            except BadRead:
                warn("thread state 0x%x: unreadable frame at 0x%x" % (tstate, frame))
                break
            code = _q(raw, fr["f_code"])
            prev_instr = _q(raw, fr["prev_instr"])
            owner = raw[fr["owner"]]
            previous = _q(raw, fr["previous"])
            try:
                info = self._code(code)
                if owner == FRAME_OWNED_BY_GENERATOR or prev_instr >= info["code_start"] + 2 * info["firsttraceable"]:
                    frames.append(self._frame(frame, raw, info, prev_instr))
                # else: an incomplete frame (not yet at its first RESUME); Python hides it too
            except (BadRead, ValueError, UnicodeError, struct.error) as e:
                warn("thread state 0x%x: frame at 0x%x has an unreadable code object: %s" % (tstate, frame, e))
                frames.append({"function": "<unknown>", "file": "<unknown>", "line": 0,
                               "is_entry": bool(raw[fr["is_entry"]]), "locals": []})
            frame = previous
        return frames

    def _frame(self, frame, raw, info, prev_instr):
        fr = self.fr
        line = 0
        frame_obj = _q(raw, fr["frame_obj"])
        if frame_obj:
            try:  # a traced frame keeps its own line number
                line = self.mem.i32(frame_obj + self.fo["f_lineno"])
            except BadRead:
                line = 0
        if not line:
            line = self._line(info, (prev_instr - info["code_start"]) // 2 * 2)
        local_list = []
        n = info["nlocalsplus"]
        if n:
            try:
                values = self.mem.ptrs(frame + fr["localsplus"], n)
            except BadRead:
                values = ()
            names, kinds, nargs = info["names"], info["kinds"], info["nargs"]
            for i, value in enumerate(values):
                if not value or i >= len(names):
                    continue
                k = kinds[i] if i < len(kinds) else CO_FAST_LOCAL
                if k & (CO_FAST_CELL | CO_FAST_FREE):
                    value = self._cell_contents(value)
                    if not value:
                        continue
                if i < nargs:
                    kind = "arg"
                elif k & CO_FAST_FREE:
                    kind = "free"
                elif k & CO_FAST_CELL:
                    kind = "cell"
                else:
                    kind = "local"
                local_list.append((names[i], kind, value))
        return {
            "function": info["name"],
            "file": info["filename"],
            "line": line,
            "is_entry": bool(raw[fr["is_entry"]]),
            "locals": local_list,
        }

    def _cell_contents(self, addr):
        """The object a cell holds (0 when empty); a non-cell is returned as is."""
        try:
            tp = self.mem.u64(addr + self.ob["ob_type"])
            if self.type_kinds.get(tp) != "cell":
                return addr
            return self.mem.u64(addr + self.ce["ob_ref"])
        except BadRead:
            return addr

    def _code(self, code):
        info = self._codes.get(code)
        if info is not None:
            return info
        co = self.co
        mem = self.mem
        raw = mem.read(code, co.size)
        if self.type_kinds.get(_q(raw, self.ob["ob_type"])) != "code":
            raise ValueError("0x%x is not a code object" % code)
        flags = _i(raw, co["co_flags"])
        nargs = _i(raw, co["co_argcount"]) + _i(raw, co["co_kwonlyargcount"])
        if flags & CO_VARARGS:
            nargs += 1
        if flags & CO_VARKEYWORDS:
            nargs += 1
        nlocalsplus = _i(raw, co["co_nlocalsplus"])
        if not 0 <= nlocalsplus <= 100000:
            raise BadRead(code, co.size)
        names = []
        names_tuple = _q(raw, co["co_localsplusnames"])
        if nlocalsplus and names_tuple:
            for a in self._tuple_items(names_tuple, nlocalsplus):
                names.append(self.str_value(a) or "?")
        kinds = self.bytes_value(_q(raw, co["co_localspluskinds"])) if nlocalsplus else b""
        info = {
            "name": self.str_value(_q(raw, co["co_name"])) or "<unknown>",
            "filename": self.str_value(_q(raw, co["co_filename"])) or "<unknown>",
            "firstlineno": _i(raw, co["co_firstlineno"]),
            "linetable_addr": _q(raw, co["co_linetable"]),
            "linetable": None,
            "code_start": code + co["co_code_adaptive"],
            "firsttraceable": _i(raw, co["_co_firsttraceable"]),
            "nlocalsplus": nlocalsplus,
            "names": names,
            "kinds": kinds or b"",
            "nargs": nargs,
            "addr": code,
        }
        self._codes[code] = info
        return info

    def _line(self, info, addrq):
        """PyCode_Addr2Line(code, addrq) for the 3.11 location table (Objects/locations.md)."""
        key = (info["addr"], addrq)
        line = self._lines.get(key)
        if line is not None:
            return line
        if addrq < 0:
            line = info["firstlineno"]
        else:
            table = info["linetable"]
            if table is None:
                table = info["linetable"] = self.bytes_value(info["linetable_addr"]) or b""
            line = _addr2line(table, info["firstlineno"], addrq)
        self._lines[key] = line
        return line

    # ---------------------------------------------------------------- objects

    def _type_info(self, tp):
        """(kind, name, flags) of a type object, or None when tp does not look like a type."""
        try:
            return self._types[tp]
        except KeyError:
            pass
        info = None
        try:
            info = self._read_type(tp)
        except BadRead:
            info = None
        except (UnicodeError, ValueError):
            info = None
        self._types[tp] = info
        return info

    def _read_type(self, tp):
        if tp % 8:
            return None
        t = self.tp
        raw = self.mem.read(tp, t.size)
        meta = _q(raw, t["ob_type"])
        if meta != self.type_type:
            # A metaclass: itself a type whose flags say it subclasses type.
            mraw = self.mem.read(meta, t.size)
            if _q(mraw, t["ob_type"]) == 0 or not _q(mraw, t["tp_flags"]) & TPFLAGS_TYPE_SUBCLASS:
                return None
        flags = _q(raw, t["tp_flags"])
        name = self.mem.cstring(_q(raw, t["tp_name"]), 512)
        if not name:
            return None
        kind = self.type_kinds.get(tp)
        if kind is None:
            if flags & TPFLAGS_TYPE_SUBCLASS:
                kind = "type"
            else:
                # Instances whose class has a __dict__ slot and lives outside builtins print
                # as <Name at 0x...>; everything else as Python's default <module.Name object at 0x...>.
                has_dict = flags & TPFLAGS_MANAGED_DICT or _q(raw, t["tp_dictoffset"])
                module, short, qual = self._type_names(tp, raw, flags, name)
                if has_dict and module != "builtins":
                    kind, name = "instance", short
                else:
                    kind, name = "object", qual
        return (kind, name, flags)

    def _type_names(self, tp, raw, flags, tp_name):
        """(module, __name__, name as repr(type) shows it) of a type."""
        if not flags & TPFLAGS_HEAPTYPE:
            module, _, short = tp_name.rpartition(".")
            return module or "builtins", short, tp_name
        short = self.str_value(self.mem.u64(tp + self.ht["ht_name"])) or tp_name.rpartition(".")[2]
        qual = self.str_value(self.mem.u64(tp + self.ht["ht_qualname"])) or short
        mod = self.dict_get_str(_q(raw, self.tp["tp_dict"]), "__module__")
        module = self.str_value(mod) if mod else None
        if module and module != "builtins":
            return module, short, module + "." + qual
        return module or "builtins", short, qual

    def type_name_for_repr(self, tp, info):
        """What repr(type) shows between quotes: module.qualname for heap types, tp_name otherwise."""
        raw = self.mem.read(tp, self.tp.size)
        return self._type_names(tp, raw, info[2], self.mem.cstring(_q(raw, self.tp["tp_name"]), 512))[2]

    def describe(self, addr):
        mem = self.mem
        if not addr or addr % 8:
            return ("invalid",)
        try:
            refcnt, tp = struct.unpack("<qQ", mem.read(addr, 16))
        except BadRead:
            return ("invalid",)
        if not 0 < refcnt < PLAUSIBLE_REFCNT:
            return ("invalid",)
        info = self._type_info(tp)
        if info is None:
            return ("invalid",)
        kind = info[0]
        try:
            if kind == "none":
                return ("none",)
            if kind == "bool":
                return ("bool", addr == self.true_addr)
            if kind == "int":
                return ("int", self.int_value(addr))
            if kind == "float":
                return ("float", mem.f64(addr + self.fl["ob_fval"]))
            if kind == "str":
                text, complete = self._str(addr, STR_READ)
                return ("str", text, complete)
            if kind == "bytes":
                size = self._size(addr)
                n = min(size, STR_READ)
                return ("bytes", mem.read(addr + self.by["ob_sval"], n), n == size)
            if kind == "bytearray":
                size = self._size(addr)
                n = min(size, STR_READ)
                data = mem.read(mem.u64(addr + self.ba["ob_start"]), n) if n else b""
                return ("bytearray", data, n == size)
            if kind == "list":
                size = self._size(addr)
                return ("list", self._array_items(mem.u64(addr + self.li["ob_item"]), size))
            if kind == "tuple":
                return ("tuple", self._array_items(addr + self.tu["ob_item"], self._size(addr)))
            if kind == "dict":
                return ("dict", self.dict_items(addr))
            if kind in ("set", "frozenset"):
                return (kind, self._set_items(addr))
            if kind == "instance":
                return ("instance", info[1])
            if kind == "function":
                return ("function", self.str_value(mem.u64(addr + self.fn["func_qualname"])) or "?")
            if kind == "module":
                name = self.str_value(mem.u64(addr + self.mo["md_name"])) if self.mo.has("md_name") else None
                if name is None:
                    name = self.str_value(self.dict_get_str(mem.u64(addr + self.mo["md_dict"]), "__name__")) or "?"
                return ("module", name)
            if kind == "type":
                tinfo = self._type_info(addr)
                if tinfo is None:
                    return ("invalid",)
                return ("type", self.type_name_for_repr(addr, tinfo))
            if kind in ("cell", "code"):
                return ("object", info[1])
            return ("object", info[1])
        except (BadRead, UnicodeError, ValueError, OverflowError, struct.error):
            return ("invalid",)

    def _size(self, addr):
        size = self.mem.i64(addr + self.var["ob_size"])
        if not 0 <= size < PLAUSIBLE_SIZE:
            raise ValueError("implausible size %d" % size)
        return size

    def _array_items(self, base, size):
        mem = self.mem
        done = 0
        while done < size:
            n = min(64, size - done)
            for a in mem.ptrs(base + 8 * done, n):
                yield a
            done += n

    def _tuple_items(self, addr, limit):
        size = self._size(addr)
        return self.mem.ptrs(addr + self.tu["ob_item"], min(size, limit))

    def int_value(self, addr):
        size = self.mem.i64(addr + self.var["ob_size"])
        n = abs(size)
        if n > PLAUSIBLE_SIZE:
            raise ValueError("implausible int size")
        if n > 200000:
            return "<int with %d digits of 30 bits>" % n
        if n == 0:
            return 0
        digits = struct.unpack("<%dI" % n, self.mem.read(addr + self.lo["ob_digit"], 4 * n))
        value = 0
        for d in reversed(digits):
            value = (value << PYLONG_SHIFT) | d
        return -value if size < 0 else value

    def _str(self, addr, limit):
        """(text, complete) of a str object; text is at most `limit` characters."""
        mem = self.mem
        a = self.asc
        length = mem.i64(addr + a["length"])
        if not 0 <= length < PLAUSIBLE_SIZE:
            raise ValueError("implausible str length")
        state = mem.u32(addr + a["state"])
        kind = _bits(state, self.st_kind)
        compact = _bits(state, self.st_compact)
        ascii_ = _bits(state, self.st_ascii)
        ready = _bits(state, self.st_ready)
        if not ready or kind not in (1, 2, 4):
            raise ValueError("str not ready")
        if compact:
            data = addr + (a.size if ascii_ else self.cu.size)
        else:
            data = mem.u64(addr + self.uo["data"])
        n = min(length, limit)
        raw = mem.read(data, n * kind) if n else b""
        if kind == 1:
            text = raw.decode("latin-1")
        elif kind == 2:
            text = raw.decode("utf-16-le", "surrogatepass")
        else:
            text = raw.decode("utf-32-le", "surrogatepass")
        return text, n == length

    def str_value(self, addr):
        """A str object's text, or None if addr is not a readable str."""
        if not addr:
            return None
        try:
            tp = self.mem.u64(addr + self.ob["ob_type"])
            if self.type_kinds.get(tp) != "str":
                info = self._type_info(tp)
                if info is None or not info[2] & (1 << 28):  # Py_TPFLAGS_UNICODE_SUBCLASS
                    return None
            return self._str(addr, 1 << 20)[0]
        except (BadRead, UnicodeError, ValueError):
            return None

    def bytes_value(self, addr):
        if not addr:
            return None
        try:
            size = self._size(addr)
            return self.mem.read(addr + self.by["ob_sval"], min(size, 1 << 24))
        except (BadRead, ValueError):
            return None

    def dict_items(self, addr):
        """Lazy (key, value) address pairs of a dict, in insertion order."""
        mem = self.mem
        keys = mem.u64(addr + self.di["ma_keys"])
        values = mem.u64(addr + self.di["ma_values"])
        used = mem.i64(addr + self.di["ma_used"])
        return self._keys_items(keys, values, used)

    def _keys_header(self, keys):
        dk = self.dk
        raw = self.mem.read(keys, dk.size)
        log2_size = raw[dk["dk_log2_size"]]
        log2_index_bytes = raw[dk["dk_log2_index_bytes"]]
        kind = raw[dk["dk_kind"]]
        nentries = _q(raw, dk["dk_nentries"])
        if log2_size > 40 or log2_index_bytes > 44 or nentries > (1 << log2_size) or nentries < 0:
            raise ValueError("implausible dict keys")
        entries = keys + dk["dk_indices"] + (1 << log2_index_bytes)
        return kind, nentries, entries

    def _keys_items(self, keys, values, used):
        mem = self.mem
        if not 0 <= used < PLAUSIBLE_SIZE:
            raise ValueError("implausible dict size")
        kind, nentries, entries = self._keys_header(keys)
        if values:
            # Split table: the values array, iterated in the insertion order kept before it.
            if kind == DICT_KEYS_GENERAL:
                raise ValueError("values with a general keys table")
            order_len = mem.u8(values - 2)
            count = min(used, order_len)
            order = mem.read(values - 2 - count, count) if count else b""
            for i in range(count):
                ix = order[count - 1 - i]  # order[-3-i] counted from values
                if ix >= nentries:
                    continue
                v = mem.u64(values + 8 * ix)
                if v:
                    yield mem.u64(entries + self.entry_unicode * ix), v
            return
        general = kind == DICT_KEYS_GENERAL
        esize = self.entry_general if general else self.entry_unicode
        koff = 8 if general else 0
        scan = min(nentries, MAX_SCAN)
        done = 0
        while done < scan:
            n = min(32, scan - done)
            raw = mem.read(entries + esize * done, esize * n)
            for j in range(n):
                base = j * esize + koff
                k, v = struct.unpack_from("<QQ", raw, base)
                if k and v:
                    yield k, v
            done += n

    def dict_get_str(self, addr, name):
        """The value stored under the str key `name` in a dict, or 0."""
        if not addr:
            return 0
        for k, v in self.dict_items(addr):
            if self.str_value(k) == name:
                return v
        return 0

    def _set_items(self, addr):
        mem = self.mem
        se = self.se
        mask = mem.i64(addr + se["mask"])
        table = mem.u64(addr + se["table"])
        if not 0 <= mask < PLAUSIBLE_SIZE:
            raise ValueError("implausible set mask")
        esize = self.setentry.size
        hoff = self.setentry["hash"]
        koff = self.setentry["key"]
        scan = min(mask + 1, MAX_SCAN)
        done = 0
        while done < scan:
            n = min(64, scan - done)
            raw = mem.read(table + esize * done, esize * n)
            for j in range(n):
                k = _q(raw, j * esize + koff)
                h = struct.unpack_from("<q", raw, j * esize + hoff)[0]
                if k and h != -1:  # dummy (deleted) slots hold the dummy key and hash -1
                    yield k
            done += n

    # ---------------------------------------------------------------- instance attributes

    def instance_attr(self, addr, name):
        """An attribute stored in an instance's __dict__ (managed or not), or 0."""
        mem = self.mem
        tp = mem.u64(addr + self.ob["ob_type"])
        info = self._type_info(tp)
        if info is None:
            return 0
        flags = info[2]
        if flags & TPFLAGS_MANAGED_DICT:
            d = mem.u64(addr - 3 * 8)
            if d:
                return self.dict_get_str(d, name)
            values = mem.u64(addr - 4 * 8)
            if not values:
                return 0
            keys = mem.u64(tp + self.ht["ht_cached_keys"])
            if not keys:
                return 0
            _kind, nentries, entries = self._keys_header(keys)
            for ix in range(min(nentries, 64)):
                k = mem.u64(entries + self.entry_unicode * ix)
                if k and self.str_value(k) == name:
                    return mem.u64(values + 8 * ix)
            return 0
        offset = mem.i64(tp + self.tp["tp_dictoffset"])
        if offset > 0:
            return self.dict_get_str(mem.u64(addr + offset), name)
        return 0

    def thread_names(self, warn):
        """{ident: (name, Thread address)} from threading._active (the Thread objects' _name)."""
        names = {}
        for interp in self.interpreters():
            try:
                modules = self.mem.u64(interp + self.is_["modules"])
                if not modules:
                    continue
                threading = self.dict_get_str(modules, "threading")
                if not threading:
                    continue
                md_dict = self.mem.u64(threading + self.mo["md_dict"])
                active = self.dict_get_str(md_dict, "_active")
                if not active:
                    continue
                for k, v in self.dict_items(active):
                    d = self.describe(k)
                    if d[0] != "int" or not isinstance(d[1], int):
                        continue
                    name = self.str_value(self.instance_attr(v, "_name"))
                    if name is not None:
                        names[d[1]] = (name, v)
            except (BadRead, ValueError, UnicodeError, struct.error) as e:
                warn("cannot read thread names from threading._active: %s" % e)
        return names

    def argv(self, warn):
        """sys.orig_argv, read from the main interpreter's PyConfig (a PyWideStringList of wchar_t*)."""
        mem = self.mem
        try:
            interp = self.interpreters()[0]
            lst = interp + field_path_offset("PyInterpreterState", "config.orig_argv")
            length = mem.i64(lst)
            items = mem.u64(lst + 8)
            if not 0 < length < 4096:
                return None
            out = []
            for i in range(length):
                out.append(self._wide_string(mem.u64(items + 8 * i)))
            return out
        except (BadRead, IndexError, gdb.error, UnicodeError) as e:
            warn("cannot read the command line (sys.orig_argv): %s" % e)
            return None

    def _wide_string(self, addr, limit=1 << 16):
        """A NUL-terminated wchar_t string (4 bytes a character on Linux)."""
        chunks = []
        for start in range(0, limit * 4, 4096):
            raw = self.mem.read(addr + start, 4096)
            for j in range(0, len(raw), 4):
                ch = struct.unpack_from("<I", raw, j)[0]
                if ch == 0:
                    return "".join(chunks)
                chunks.append(chr(ch) if ch < 0x110000 else "\ufffd")
        return "".join(chunks)

    def heap_info(self, warn):
        from coroner_layouts import cpython_311_heap
        return cpython_311_heap.heap_info(self, warn)

    # ---------------------------------------------------------------- locks

    def lock_wait(self, function, frame):
        """What a native frame blocked in lock acquisition waits on (from its `self` argument)."""
        if function == "lock_PyThread_acquire_lock":
            self_addr = _frame_self(frame)
            if self_addr:
                return {"kind": "lock", "address": self_addr, "owner_ident": None, "count": None}
        elif function == "rlock_acquire":
            self_addr = _frame_self(frame)
            if self_addr:
                if self._rlock is None:
                    self._rlock = CStruct("rlockobject")
                rl = self._rlock
                owner = count = None
                try:
                    owner = self.mem.u64(self_addr + rl["rlock_owner"])
                    count = self.mem.u64(self_addr + rl["rlock_count"])
                except BadRead:
                    pass
                return {"kind": "rlock", "address": self_addr, "owner_ident": owner, "count": count}
        return None


def _frame_self(frame):
    try:
        v = frame.read_var("self")
        if v.is_optimized_out:
            return 0
        return int(v)
    except (gdb.error, ValueError, RuntimeError):
        return 0


def _q(raw, off):
    return struct.unpack_from("<Q", raw, off)[0]


def _i(raw, off):
    return struct.unpack_from("<i", raw, off)[0]


def _bits(word, spec):
    pos, size = spec
    return (word >> pos) & ((1 << size) - 1)


def _varint(table, i):
    b = table[i]
    i += 1
    val = b & 63
    shift = 0
    while b & 64:
        b = table[i]
        i += 1
        shift += 6
        val |= (b & 63) << shift
    return val, i


def _addr2line(table, firstlineno, addrq):
    """Line of the code unit at byte offset addrq (-1 when it has none), per 3.11's
    _PyCode_CheckLineNumber: walk the ranges, keeping the running line number."""
    computed = firstlineno
    end = 0
    i = 0
    n = len(table)
    while i < n:
        first = table[i]
        code = (first >> 3) & 15
        length = ((first & 7) + 1) * 2
        if code == LOC_NONE:
            delta = 0
        elif code in (LOC_NO_COLUMNS, LOC_LONG):
            uval, _ = _varint(table, i + 1)
            delta = -(uval >> 1) if uval & 1 else uval >> 1
        elif code >= LOC_ONE_LINE0:
            delta = code - LOC_ONE_LINE0
        else:
            delta = 0
        computed += delta
        start = end
        end += length
        if start <= addrq < end:
            return -1 if code == LOC_NONE else computed
        i += 1
        while i < n and not table[i] & 128:
            i += 1
    return -1
