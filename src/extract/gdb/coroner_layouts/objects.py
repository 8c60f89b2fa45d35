"""Object decoders: what an object is, and the values of the builtin types coroner shows.

Objects311 turns an address into a description for coroner_repr (describe()), and gives the
other features the values they need (str, bytes, int, tuple items, dict lookups, instance
attributes). DictKeys311 is the one reader of dict keys tables, for dicts and for the shared
keys of managed dicts alike. Offsets come from DWARF; the constants here are the ones the
3.11 headers hold and DWARF does not (flag bits, enum values, fixed pre-header slots). A later
version subclasses and overrides what changed.

The heap record of the census (heap.py) takes its facts about objects from here too
(flags_record, managed_record, int_record, DictKeys311.record), so a constant has one home.
"""
import struct

import gdb

from coroner_mem import BadRead, Layout as CStruct, address_of, bitfield, bits, i64_at, u64_at

MAX_SCAN = 1 << 20   # most table slots looked at for one container
STR_READ = 1 << 16   # characters of a str read in full (enough to choose quotes like repr does)
PLAUSIBLE_REFCNT = 1 << 48
PLAUSIBLE_SIZE = 1 << 40
MAX_INT_DIGITS = 200000  # beyond this an int is described, not computed
MAX_SHARED_KEYS = 64     # attributes looked at in a class's shared keys
PTR = 8

# Exported or static objects whose addresses identify builtin types.
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


class DictKeys311:
    """PyDictKeysObject of 3.11: a header, 2**dk_log2_size indices of 2**dk_log2_index_bytes
    bytes in all, then the entries, PyDictKeyEntry (hash, key, value) for a general table and
    PyDictUnicodeEntry (key, value) for str-only and split ones."""

    # Include/internal/pycore_dict.h: DictKeysKind
    GENERAL = 0
    UNICODE = 1
    SPLIT = 2
    # Objects/dictobject.c: USABLE_FRACTION(n) = (n << 1) / 3
    USABLE = (2, 3)
    SIZE_FORMAT = "log2"

    def __init__(self, mem):
        self.mem = mem
        self.dk = CStruct("PyDictKeysObject")
        general = CStruct("PyDictKeyEntry")
        unicode_ = CStruct("PyDictUnicodeEntry")
        self.general = (general.size, general["me_key"], general["me_value"])
        self.unicode = (unicode_.size, unicode_["me_key"], unicode_["me_value"])

    def header(self, keys):
        """(kind, nentries, address of the first entry); ValueError when implausible."""
        dk = self.dk
        raw = self.mem.read(keys, dk.size)
        log2_size = raw[dk["dk_log2_size"]]
        log2_index_bytes = raw[dk["dk_log2_index_bytes"]]
        kind = raw[dk["dk_kind"]]
        nentries = u64_at(raw, dk["dk_nentries"])
        if log2_size > 40 or log2_index_bytes > 44 or nentries > (1 << log2_size):
            raise ValueError("implausible dict keys")
        return kind, nentries, keys + dk["dk_indices"] + (1 << log2_index_bytes)

    def entry_format(self, kind):
        """(entry size, key offset, value offset) of a table of this kind."""
        return self.general if kind == self.GENERAL else self.unicode

    def items(self, keys, values, used):
        """Lazy (key, value) address pairs, in insertion order. `values` is a split table's
        values array (0 for a combined table), `used` the dict's ma_used."""
        mem = self.mem
        if not 0 <= used < PLAUSIBLE_SIZE:
            raise ValueError("implausible dict size")
        kind, nentries, entries = self.header(keys)
        if values:
            # A split table: the values array, in the insertion order kept in the bytes before it
            # (the count at values[-1], then the indices backwards from values[-3]).
            if kind == self.GENERAL:
                raise ValueError("values with a general keys table")
            esize, koff, _voff = self.unicode
            order_len = mem.u8(values - 2)
            count = min(used, order_len)
            order = mem.read(values - 2 - count, count) if count else b""
            for i in range(count):
                ix = order[count - 1 - i]
                if ix >= nentries:
                    continue
                v = mem.u64(values + PTR * ix)
                if v:
                    yield mem.u64(entries + esize * ix + koff), v
            return
        esize, koff, voff = self.entry_format(kind)
        scan = min(nentries, MAX_SCAN)
        done = 0
        while done < scan:
            n = min(32, scan - done)
            raw = mem.read(entries + esize * done, esize * n)
            for j in range(n):
                k = u64_at(raw, j * esize + koff)
                v = u64_at(raw, j * esize + voff)
                if k and v:
                    yield k, v
            done += n

    def shared_keys(self, keys, limit):
        """(index, key address) of a class's shared keys: index is the slot of the value in
        an instance's values array."""
        _kind, nentries, entries = self.header(keys)
        esize, koff, _voff = self.unicode
        for ix in range(min(nentries, limit)):
            yield ix, self.mem.u64(entries + esize * ix + koff)

    def values_slots(self, keys):
        """Slots of the values array new_values() gives an instance sharing these keys (0 when
        implausible)."""
        slots = self.mem.i64(keys + self.dk["dk_nentries"]) + self.mem.i64(keys + self.dk["dk_usable"])
        return slots if 0 < slots < 1 << 20 else 0

    def record(self):
        """How to read a keys table, for the census."""
        dk = self.dk
        return {
            "header_size": dk.size,
            "log2_size": dk["dk_log2_size"],
            "log2_index_bytes": dk["dk_log2_index_bytes"],
            "kind": dk["dk_kind"],
            "nentries": dk["dk_nentries"],
            "entry_general": self.general[0],
            "entry_unicode": self.unicode[0],
            "format": self.SIZE_FORMAT,
            "key_general": self.general[1],
            "value_general": self.general[2],
            "key_unicode": self.unicode[1],
            "value_unicode": self.unicode[2],
            "usable_num": self.USABLE[0],
            "usable_den": self.USABLE[1],
        }


class Objects311:
    # Symbol -> kind of the builtin types and singletons describe() tells apart.
    TYPE_SYMBOLS = _TYPE_SYMBOLS
    # The module of builtin types (2.7: __builtin__).
    BUILTINS_MODULE = "builtins"
    # Include/object.h: the tp_flags bits coroner reads (the census gets this table as is).
    FLAGS = {
        "managed_dict": 1 << 4,
        "heaptype": 1 << 9,
        "have_gc": 1 << 14,
        "long_subclass": 1 << 24,
        "list_subclass": 1 << 25,
        "tuple_subclass": 1 << 26,
        "bytes_subclass": 1 << 27,
        "unicode_subclass": 1 << 28,
        "dict_subclass": 1 << 29,
        "type_subclass": 1 << 31,
    }
    # Include/internal/pycore_object.h: a managed-dict instance has two words before its GC
    # head, the dict pointer at obj-3 words (_PyObject_ManagedDictPointer) and the values array
    # pointer at obj-4 words (_PyObject_ValuesPointer).
    MANAGED_PRE_HEADER = 2 * PTR
    MANAGED_DICT_OFFSET = -3 * PTR
    MANAGED_VALUES_OFFSET = -4 * PTR
    # Include/cpython/longintrepr.h: ob_size is the signed digit count; _PyLong_New gives 0
    # one digit all the same.
    PYLONG_SHIFT = 30
    INT_MIN_DIGITS = 1
    DICT_KEYS = DictKeys311
    # Include/cpython/unicodeobject.h: PyASCIIObject.state has a `ready` bit (3.3 to 3.11).
    STR_READY = True

    def __init__(self, layout):
        self.mem = layout.mem
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
        self.se = CStruct("PySetObject")
        self.mo = CStruct("PyModuleObject")
        self.fn = CStruct("PyFunctionObject")
        self.ce = CStruct("PyCellObject")
        self.setentry = CStruct("setentry")
        self.keys = self.DICT_KEYS(self.mem)

        # PyASCIIObject.state bitfield
        self.st_kind = bitfield("PyASCIIObject", "state", "kind")
        self.st_compact = bitfield("PyASCIIObject", "state", "compact")
        self.st_ascii = bitfield("PyASCIIObject", "state", "ascii")
        # 3.12 dropped the ready bit (every str is ready) with the legacy wstr forms.
        self.st_ready = bitfield("PyASCIIObject", "state", "ready") if self.STR_READY else None

        self._find_types()

    def _find_types(self):
        """The builtin types' and singletons' addresses (the symbols of the version's own table)."""
        self.type_kinds = {}
        for sym, kind in self.TYPE_SYMBOLS.items():
            try:
                self.type_kinds[address_of(sym)] = kind
            except gdb.error:
                pass
        self.none_addr = address_of("_Py_NoneStruct")
        self.true_addr = address_of("_Py_TrueStruct")
        self.type_type = address_of("PyType_Type")
        self._types = {}

    # ---------------------------------------------------------------- records for the census

    def flags_record(self):
        return dict(self.FLAGS)

    def managed_record(self):
        return {
            "flags": self.FLAGS["managed_dict"],
            "pre_header_size": self.MANAGED_PRE_HEADER,
            "dict_offset": self.MANAGED_DICT_OFFSET,
            "values": {"kind": "pre-header", "offset": self.MANAGED_VALUES_OFFSET},
        }

    def int_record(self):
        """How an int's digit count is kept, as _int_header() reads it."""
        return {"size_offset": self.var["ob_size"], "shift": 0, "signed": True, "min_digits": self.INT_MIN_DIGITS}

    # ---------------------------------------------------------------- types

    def kind_of_type(self, tp):
        """"int", "code", "cell"...: the builtin type at tp, or None."""
        return self.type_kinds.get(tp)

    def type_info(self, tp):
        """(kind, name, flags) of a type object, or None when tp does not look like a type."""
        try:
            return self._types[tp]
        except KeyError:
            pass
        try:
            info = self._read_type(tp)
        except (BadRead, UnicodeError, ValueError):
            info = None
        self._types[tp] = info
        return info

    def _read_type(self, tp):
        if tp % 8:
            return None
        t = self.tp
        subclass = self.FLAGS["type_subclass"]
        raw = self.mem.read(tp, t.size)
        meta = u64_at(raw, t["ob_type"])
        if meta != self.type_type:
            # A metaclass: itself a type whose flags say it subclasses type.
            mraw = self.mem.read(meta, t.size)
            if u64_at(mraw, t["ob_type"]) == 0 or not u64_at(mraw, t["tp_flags"]) & subclass:
                return None
        flags = u64_at(raw, t["tp_flags"])
        name = self.mem.cstring(u64_at(raw, t["tp_name"]), 512)
        if not name:
            return None
        kind = self.type_kinds.get(tp)
        if kind is None:
            if flags & subclass:
                kind = "type"
            else:
                # Instances whose class has a __dict__ slot and lives outside builtins print
                # as <Name at 0x...>; everything else as Python's default <module.Name object at 0x...>.
                has_dict = flags & self.FLAGS["managed_dict"] or u64_at(raw, t["tp_dictoffset"])
                module, short, qual = self.type_names(tp, raw, flags, name)
                if has_dict and module != self.BUILTINS_MODULE:
                    kind, name = "instance", short
                else:
                    kind, name = "object", qual
        return (kind, name, flags)

    def type_names(self, tp, raw, flags, tp_name):
        """(module, __name__, name as repr(type) shows it) of a type; raw is its PyTypeObject."""
        if not flags & self.FLAGS["heaptype"]:
            module, _, short = tp_name.rpartition(".")
            return module or self.BUILTINS_MODULE, short, tp_name
        short = self.str_value(self.mem.u64(tp + self.ht["ht_name"])) or tp_name.rpartition(".")[2]
        qual = self.str_value(self.mem.u64(tp + self.ht["ht_qualname"])) or short
        mod = self.dict_get_str(u64_at(raw, self.tp["tp_dict"]), "__module__")
        module = self.str_value(mod) if mod else None
        if module and module != self.BUILTINS_MODULE:
            return module, short, module + "." + qual
        return module or self.BUILTINS_MODULE, short, qual

    def type_name_for_repr(self, tp, info):
        """What repr(type) shows between quotes: module.qualname for heap types, tp_name otherwise."""
        raw = self.mem.read(tp, self.tp.size)
        return self.type_names(tp, raw, info[2], self.mem.cstring(u64_at(raw, self.tp["tp_name"]), 512))[2]

    # ---------------------------------------------------------------- descriptions

    def describe(self, addr):
        """The description of one object that coroner_repr prints (see its docstring)."""
        mem = self.mem
        if not addr or addr % 8:
            return ("invalid",)
        try:
            refcnt, tp = struct.unpack("<qQ", mem.read(addr, 16))
        except BadRead:
            return ("invalid",)
        if not 0 < refcnt < PLAUSIBLE_REFCNT:
            return ("invalid",)
        if addr == self.none_addr:
            return ("none",)
        info = self.type_info(tp)
        if info is None:
            return ("invalid",)
        describe = getattr(self, "_describe_" + info[0], None)
        try:
            return describe(addr, info) if describe else ("object", info[1])
        except (BadRead, UnicodeError, ValueError, OverflowError, struct.error):
            return ("invalid",)

    # One method per kind of type_info: what differs between versions is overridden per kind.
    # The field that holds a bytearray's data, and a function's name as repr shows it.
    BYTEARRAY_DATA = "ob_start"
    FUNCTION_NAME = "func_qualname"

    def _describe_none(self, addr, info):
        return ("none",)

    def _describe_bool(self, addr, info):
        return ("bool", addr == self.true_addr)

    def _describe_int(self, addr, info):
        return ("int", self.int_value(addr))

    def _describe_float(self, addr, info):
        return ("float", self.mem.f64(addr + self.fl["ob_fval"]))

    def _describe_str(self, addr, info):
        text, complete = self._str(addr, STR_READ)
        return ("str", text, complete)

    def _bytes_data(self, addr):
        """(the first bytes of a bytes object, whether they are all of it)."""
        size = self._size(addr)
        n = min(size, STR_READ)
        return (self.mem.read(addr + self.by["ob_sval"], n) if n else b""), n == size

    def _describe_bytes(self, addr, info):
        return ("bytes",) + self._bytes_data(addr)

    def _describe_bytearray(self, addr, info):
        size = self._size(addr)
        n = min(size, STR_READ)
        data = self.mem.read(self.mem.u64(addr + self.ba[self.BYTEARRAY_DATA]), n) if n else b""
        return ("bytearray", data, n == size)

    def _describe_list(self, addr, info):
        return ("list", self._array_items(self.mem.u64(addr + self.li["ob_item"]), self._size(addr)))

    def _describe_tuple(self, addr, info):
        return ("tuple", self._array_items(addr + self.tu["ob_item"], self._size(addr)))

    def _describe_dict(self, addr, info):
        return ("dict", self.dict_items(addr))

    def _describe_set(self, addr, info):
        return (info[0], self._set_items(addr))

    _describe_frozenset = _describe_set

    def _describe_instance(self, addr, info):
        return ("instance", info[1])

    def _describe_function(self, addr, info):
        return ("function", self.str_value(self.mem.u64(addr + self.fn[self.FUNCTION_NAME])) or "?")

    def _describe_module(self, addr, info):
        mem = self.mem
        name = self.str_value(mem.u64(addr + self.mo["md_name"])) if self.mo.has("md_name") else None
        if name is None:
            name = self.str_value(self.dict_get_str(mem.u64(addr + self.mo["md_dict"]), "__name__")) or "?"
        return ("module", name)

    def _describe_type(self, addr, info):
        tinfo = self.type_info(addr)
        return ("invalid",) if tinfo is None else ("type", self.type_name_for_repr(addr, tinfo))

    # ---------------------------------------------------------------- values

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
            yield from mem.ptrs(base + PTR * done, n)
            done += n

    def tuple_items(self, addr, limit):
        """The first `limit` item addresses of a tuple."""
        size = self._size(addr)
        return self.mem.ptrs(addr + self.tu["ob_item"], min(size, limit))

    def _int_header(self, addr):
        """(digit count, negative) of an int."""
        size = self.mem.i64(addr + self.var["ob_size"])
        return abs(size), size < 0

    def int_value(self, addr):
        n, negative = self._int_header(addr)
        if n > PLAUSIBLE_SIZE:
            raise ValueError("implausible int size")
        if n > MAX_INT_DIGITS:
            return "<int with %d digits of %d bits>" % (n, self.PYLONG_SHIFT)
        if n == 0:
            return 0
        digits = struct.unpack("<%dI" % n, self.mem.read(addr + self.lo["ob_digit"], 4 * n))
        value = 0
        for d in reversed(digits):
            value = (value << self.PYLONG_SHIFT) | d
        return -value if negative else value

    def _str(self, addr, limit):
        """(text, complete) of a str object; text is at most `limit` characters."""
        mem = self.mem
        a = self.asc
        length = mem.i64(addr + a["length"])
        if not 0 <= length < PLAUSIBLE_SIZE:
            raise ValueError("implausible str length")
        state = mem.u32(addr + a["state"])
        kind = bits(state, self.st_kind)
        if (self.st_ready is not None and not bits(state, self.st_ready)) or kind not in (1, 2, 4):
            raise ValueError("str not ready")
        if bits(state, self.st_compact):
            data = addr + (a.size if bits(state, self.st_ascii) else self.cu.size)
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

    def text_value(self, addr):
        """The text of a name the interpreter keeps (a file name, a thread's name): a str in 3.x."""
        return self.str_value(addr)

    def str_value(self, addr):
        """A str object's text, or None if addr is not a readable str."""
        if not addr:
            return None
        try:
            tp = self.mem.u64(addr + self.ob["ob_type"])
            if self.type_kinds.get(tp) != "str":
                info = self.type_info(tp)
                if info is None or not info[2] & self.FLAGS["unicode_subclass"]:
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

    def cell_contents(self, addr):
        """The object a cell holds (0 when empty); a non-cell is returned as is."""
        try:
            tp = self.mem.u64(addr + self.ob["ob_type"])
            if self.type_kinds.get(tp) != "cell":
                return addr
            return self.mem.u64(addr + self.ce["ob_ref"])
        except BadRead:
            return addr

    def dict_items(self, addr):
        """Lazy (key, value) address pairs of a dict, in insertion order."""
        mem = self.mem
        keys = mem.u64(addr + self.di["ma_keys"])
        values = mem.u64(addr + self.di["ma_values"])
        used = mem.i64(addr + self.di["ma_used"])
        return self.keys.items(keys, values, used)

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
                k = u64_at(raw, j * esize + koff)
                h = i64_at(raw, j * esize + hoff)
                if k and h != -1:  # dummy (deleted) slots hold the dummy key and hash -1
                    yield k
            done += n

    # ---------------------------------------------------------------- instance attributes

    def instance_attr(self, addr, name):
        """An attribute stored in an instance's __dict__ (managed or not), or 0."""
        mem = self.mem
        tp = mem.u64(addr + self.ob["ob_type"])
        info = self.type_info(tp)
        if info is None:
            return 0
        if info[2] & self.FLAGS["managed_dict"]:
            d = mem.u64(addr + self.MANAGED_DICT_OFFSET)
            if d:
                return self.dict_get_str(d, name)
            values, slots = self.values_slots(addr, tp, info[2])
            keys = mem.u64(tp + self.ht["ht_cached_keys"]) if values else 0
            if not keys:
                return 0
            for ix, k in self.keys.shared_keys(keys, slots):
                if k and self.str_value(k) == name:
                    return mem.u64(values + PTR * ix)
            return 0
        offset = mem.i64(tp + self.tp["tp_dictoffset"])
        if offset > 0:
            return self.dict_get_str(mem.u64(addr + offset), name)
        return 0

    def values_slots(self, addr, tp, flags):
        """(address of the first value, how many slots to read) of a managed instance's values
        array, or (0, 0): 3.11 keeps a pointer to it in the pre-header."""
        return self.mem.u64(addr + self.MANAGED_VALUES_OFFSET), MAX_SHARED_KEYS

    def values_array(self, tp, flags):
        """(slots, bytes) of the values array an instance of a plain class keeps its attributes
        in (a managed dict not yet materialized), sized as new_values() sizes it from the
        class's shared keys; (0, 0) for other types."""
        if not (flags & self.FLAGS["managed_dict"] and flags & self.FLAGS["heaptype"]):
            return 0, 0
        try:
            keys = self.mem.u64(tp + self.ht["ht_cached_keys"])
            slots = self.keys.values_slots(keys) if keys else 0
        except BadRead:
            slots = 0
        if not slots:
            return 0, 0
        # new_values(): the insertion-order bytes (a count, then one byte a slot) rounded up to
        # a pointer, then the pointers.
        return slots, ((slots + 2 + PTR - 1) & ~(PTR - 1)) + slots * PTR
