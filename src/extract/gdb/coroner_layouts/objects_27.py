"""Object decoders of 2.7: `str` is a byte string (PyStringObject), `unicode` a UCS-4 buffer
(PyUnicodeObject.str, Py_UNICODE of 4 bytes on Debian), `int` a machine long (PyIntObject) and
`long` the digit array; dicts keep their own table (ma_table: ma_smalltable while small); old-style
classes (classobj) and their instances (instance) sit beside new-style ones.

repr() as 2.7 prints it: 1L, u'x', 'bytes', set([1]), <type 'int'>, <class '__main__.C'>, <class
__main__.Old at 0x...>; what 3.x prints the same way keeps the shared descriptions of coroner_repr,
the rest is given as ("text", literal).
"""
import gdb

from coroner_layouts.objects import PLAUSIBLE_SIZE, STR_READ, Objects311
from coroner_mem import BadRead, Layout as CStruct, u64_at

MAX_SCAN = 1 << 20
MAX_INT_DIGITS = 200000

# Exported objects whose addresses identify the builtin types (2.7 names).
_TYPE_SYMBOLS = {
    "PyInt_Type": "int",
    "PyLong_Type": "long",
    "PyBool_Type": "bool",
    "PyFloat_Type": "float",
    "PyString_Type": "bytes",
    "PyUnicode_Type": "unicode",
    "PyByteArray_Type": "bytearray",
    "PyList_Type": "list",
    "PyTuple_Type": "tuple",
    "PyDict_Type": "dict",
    "PySet_Type": "set",
    "PyFrozenSet_Type": "frozenset",
    "PyFunction_Type": "function",
    "PyModule_Type": "module",
    "PyType_Type": "type",
    "PyCell_Type": "cell",
    "PyCode_Type": "code",
    "PyInstance_Type": "oldinstance",
    "PyClass_Type": "classobj",
}


def py2_str_repr(data, complete=True):
    """repr() of a 2.7 str (Objects/stringobject.c string_repr): 3.x's bytes repr without the b."""
    r = repr(bytes(data))[1:]
    return r if complete else r[:-1]


def py2_unicode_repr(text, complete=True):
    """repr() of a 2.7 unicode on a UCS-4 build (unicode_repr: \\xNN, \\uNNNN, \\UNNNNNNNN escapes
    and the quote choice of str): u and 3.x's ascii()."""
    r = "u" + ascii(text)
    return r if complete else r[:-1]


class Objects27(Objects311):
    # Symbol -> kind of the builtin types and singletons describe() tells apart.
    TYPE_SYMBOLS = _TYPE_SYMBOLS
    # Include/object.h of 2.7: the tp_flags bits coroner reads, under the record's names.
    FLAGS = {
        "managed_dict": 0,
        "heaptype": 1 << 9,
        "have_gc": 1 << 14,
        "int_subclass": 1 << 23,
        "long_subclass": 1 << 24,
        "list_subclass": 1 << 25,
        "tuple_subclass": 1 << 26,
        "bytes_subclass": 1 << 27,       # Py_TPFLAGS_STRING_SUBCLASS
        "unicode_subclass": 1 << 28,
        "dict_subclass": 1 << 29,
        "type_subclass": 1 << 31,
    }
    # Include/longintrepr.h: 30-bit digits on a 64-bit build (digit is a 32-bit unsigned int);
    # ob_size is the signed digit count, 0 for 0 (no digit allocated).
    PYLONG_SHIFT = 30
    INT_MIN_DIGITS = 0
    # What repr() prints around a set's items (set_repr: "set([...])"), and for an empty one.
    # 2.7 prints an empty set with its empty list too: set([]).
    SET_FORMS = {"set": ("set([", "])", "set([])"), "frozenset": ("frozenset([", "])", "frozenset([])")}
    BUILTINS_MODULE = "__builtin__"

    def __init__(self, layout):  # Objects311.__init__ reads 3.x structures: not called
        self.mem = layout.mem
        self.ob = CStruct("PyObject")
        self.var = CStruct("PyVarObject")
        self.tp = CStruct("PyTypeObject")
        self.ht = CStruct("PyHeapTypeObject")
        self.io = CStruct("PyIntObject")
        self.lo = CStruct("PyLongObject")
        self.fl = CStruct("PyFloatObject")
        self.by = CStruct("PyStringObject")
        self.uo = CStruct("PyUnicodeObject")
        self.ba = CStruct("PyByteArrayObject")
        self.li = CStruct("PyListObject")
        self.tu = CStruct("PyTupleObject")
        self.di = CStruct("PyDictObject")
        self.de = CStruct("PyDictEntry")
        self.se = CStruct("PySetObject")
        self.setentry = CStruct("setentry")
        self.mo = CStruct("PyModuleObject")
        self.fn = CStruct("PyFunctionObject")
        self.ce = CStruct("PyCellObject")
        self.inst = CStruct("PyInstanceObject")
        self.cls = CStruct("PyClassObject")
        self.char_size = gdb.lookup_type("Py_UNICODE").sizeof
        self._find_types()
        self._dummies = None

    # ---------------------------------------------------------------- records for the census

    def flags_record(self):
        return {k: v for k, v in self.FLAGS.items() if k != "int_subclass"}

    def managed_record(self):
        return {"flags": 0, "pre_header_size": 0, "dict_offset": None, "values": None}

    def dict_record(self):
        return {"ma_keys": None, "ma_values": None, "ma_used": self.di["ma_used"]}

    def dict_keys_record(self):
        return {"format": "table", "mask": self.di["ma_mask"], "table": self.di["ma_table"],
                "smalltable": self.di["ma_smalltable"], "entry": self.de.size,
                "key": self.de["me_key"], "value": self.de["me_value"]}

    def str_record(self):
        return {"format": "py2", "length": self.uo["length"], "buffer": self.uo["str"],
                "char_size": self.char_size, "bytes_data": self.by["ob_sval"]}

    # ---------------------------------------------------------------- types

    def type_names(self, tp, raw, flags, tp_name):
        """(module, __name__, module.name): 2.7 has no __qualname__."""
        if not flags & self.FLAGS["heaptype"]:
            module, _, short = tp_name.rpartition(".")
            return module or self.BUILTINS_MODULE, short, tp_name
        short = self.str_value(self.mem.u64(tp + self.ht["ht_name"])) or tp_name.rpartition(".")[2]
        mod = self.dict_get_str(u64_at(raw, self.tp["tp_dict"]), "__module__")
        module = self.str_value(mod) if mod else None
        if module and module != self.BUILTINS_MODULE:
            return module, short, module + "." + short
        return module or self.BUILTINS_MODULE, short, short

    def _type_repr(self, tp, info):
        """type_repr of 2.7: <class 'm.C'> for classes, <type 'm.t'> for static types, no module
        for __builtin__."""
        raw = self.mem.read(tp, self.tp.size)
        flags = info[2]
        module, short, _qual = self.type_names(tp, raw, flags, self.mem.cstring(u64_at(raw, self.tp["tp_name"]), 512))
        name = short if module == self.BUILTINS_MODULE else module + "." + short
        return "<%s '%s'>" % ("class" if flags & self.FLAGS["heaptype"] else "type", name)

    # ---------------------------------------------------------------- descriptions

    BYTEARRAY_DATA = "ob_bytes"
    FUNCTION_NAME = "func_name"

    def _describe_int(self, addr, info):
        return ("int", self.mem.i64(addr + self.io["ob_ival"]))

    def _describe_long(self, addr, info):
        value = self.int_value(addr)
        return ("text", value + "L" if isinstance(value, str) else "%dL" % value)

    def _describe_bytes(self, addr, info):
        return ("text", py2_str_repr(*self._bytes_data(addr)))

    def _describe_unicode(self, addr, info):
        return ("text", py2_unicode_repr(*self._unicode(addr, STR_READ)))

    def _describe_oldinstance(self, addr, info):
        cls = self.mem.u64(addr + self.inst["in_class"])
        return ("instance", self.str_value(self.mem.u64(cls + self.cls["cl_name"])) or "?")

    def _describe_classobj(self, addr, info):
        mem = self.mem
        name = self.str_value(mem.u64(addr + self.cls["cl_name"])) or "?"
        module = self.str_value(self.dict_get_str(mem.u64(addr + self.cls["cl_dict"]), "__module__")) or "?"
        return ("text", "<class %s.%s at 0x%x>" % (module, name, addr))

    def _describe_type(self, addr, info):
        tinfo = self.type_info(addr)
        return ("invalid",) if tinfo is None else ("text", self._type_repr(addr, tinfo))

    # ---------------------------------------------------------------- values

    def _int_header(self, addr):
        size = self.mem.i64(addr + self.var["ob_size"])
        return abs(size), size < 0

    def _unicode(self, addr, limit):
        """(text, complete) of a unicode object: `length` Py_UNICODE units at `str`."""
        mem = self.mem
        length = mem.i64(addr + self.uo["length"])
        if not 0 <= length < PLAUSIBLE_SIZE:
            raise ValueError("implausible unicode length")
        n = min(length, limit)
        raw = mem.read(mem.u64(addr + self.uo["str"]), n * self.char_size) if n else b""
        if self.char_size == 4:
            text = raw.decode("utf-32-le", "surrogatepass")
        else:
            text = raw.decode("utf-16-le", "surrogatepass")
        return text, n == length

    def str_value(self, addr):
        """The text of a str (bytes, as latin-1) or unicode object, or None."""
        if not addr:
            return None
        try:
            tp = self.mem.u64(addr + self.ob["ob_type"])
            kind = self.type_kinds.get(tp)
            if kind is None:
                info = self.type_info(tp)
                if info is None:
                    return None
                if info[2] & self.FLAGS["bytes_subclass"]:
                    kind = "bytes"
                elif info[2] & self.FLAGS["unicode_subclass"]:
                    kind = "unicode"
            if kind == "bytes":
                data = self.bytes_value(addr)
                return None if data is None else data.decode("latin-1")
            if kind == "unicode":
                return self._unicode(addr, 1 << 20)[0]
            return None
        except (BadRead, UnicodeError, ValueError):
            return None

    def text_value(self, addr):
        """Like str_value, but a byte string is decoded as UTF-8 (file names, thread names)."""
        data = None
        try:
            if self.type_kinds.get(self.mem.u64(addr + self.ob["ob_type"])) == "bytes":
                data = self.bytes_value(addr)
        except BadRead:
            return None
        if data is not None:
            return data.decode("utf-8", "replace")
        return self.str_value(addr)

    def bytes_value(self, addr):
        if not addr:
            return None
        try:
            size = self._size(addr)
            return self.mem.read(addr + self.by["ob_sval"], min(size, 1 << 24)) if size else b""
        except (BadRead, ValueError):
            return None

    def dict_items(self, addr):
        """Lazy (key, value) address pairs of a dict, in table order (2.7's iteration order)."""
        mem = self.mem
        mask = mem.i64(addr + self.di["ma_mask"])
        table = mem.u64(addr + self.di["ma_table"])
        if not 0 <= mask < PLAUSIBLE_SIZE:
            raise ValueError("implausible dict mask")
        return self._table_items(table, mask + 1)

    def _table_items(self, table, slots):
        mem = self.mem
        esize = self.de.size
        koff = self.de["me_key"]
        voff = self.de["me_value"]
        scan = min(slots, MAX_SCAN)
        done = 0
        while done < scan:
            n = min(32, scan - done)
            raw = mem.read(table + esize * done, esize * n)
            for j in range(n):
                k = u64_at(raw, j * esize + koff)
                v = u64_at(raw, j * esize + voff)
                if k and v:  # a deleted key keeps the dummy key and no value
                    yield k, v
            done += n

    def _set_dummies(self):
        """The addresses of the `dummy` keys deleted slots hold (Objects/setobject.c and
        dictobject.c each have a static `dummy`; an LTO build renames them dummy.lto_priv.N)."""
        if self._dummies is None:
            self._dummies = set()
            try:
                text = gdb.execute("info variables ^dummy", to_string=True)
            except gdb.error:
                text = ""
            for line in text.splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[0].startswith("0x") and parts[1].split(".")[0] == "dummy":
                    try:
                        self._dummies.add(self.mem.u64(int(parts[0], 16)))
                    except BadRead:
                        pass
            self._dummies.discard(0)
        return self._dummies

    def _set_items(self, addr):
        mem = self.mem
        se = self.se
        mask = mem.i64(addr + se["mask"])
        table = mem.u64(addr + se["table"])
        if not 0 <= mask < PLAUSIBLE_SIZE:
            raise ValueError("implausible set mask")
        dummies = self._set_dummies()
        esize = self.setentry.size
        koff = self.setentry["key"]
        scan = min(mask + 1, MAX_SCAN)
        done = 0
        while done < scan:
            n = min(64, scan - done)
            raw = mem.read(table + esize * done, esize * n)
            for j in range(n):
                k = u64_at(raw, j * esize + koff)
                if k and k not in dummies:  # 2.7 leaves a deleted slot's hash as it was
                    yield k
            done += n

    # ---------------------------------------------------------------- instance attributes

    def instance_attr(self, addr, name):
        """An attribute in an instance's __dict__ (new-style: tp_dictoffset; old-style: in_dict), or 0."""
        mem = self.mem
        tp = mem.u64(addr + self.ob["ob_type"])
        if self.type_kinds.get(tp) == "oldinstance":
            return self.dict_get_str(mem.u64(addr + self.inst["in_dict"]), name)
        offset = mem.i64(tp + self.tp["tp_dictoffset"])
        if offset > 0:
            return self.dict_get_str(mem.u64(addr + offset), name)
        return 0

    def values_array(self, tp, flags):
        return 0, 0
