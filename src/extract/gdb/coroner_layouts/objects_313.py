"""Object decoders of 3.13, and the part of them 3.12 shares.

Objects312Base holds what changed in 3.12 and stayed in 3.13:
- an int keeps its digit count and sign in one word, _PyLongValue.lv_tag: the count above
  _PyLong_NON_SIZE_BITS (3), the sign in the low two bits (0 positive, 1 zero, 2 negative);
- a str has no `ready` bit any more (every str is ready);
- immortal objects (None, small ints, interned strs...) keep a refcount of 0xFFFFFFFF on 64-bit
  builds (_Py_IMMORTAL_REFCNT), a plausible refcount as far as describe() is concerned;
- a managed instance has a pre-header of two words, its dict at obj-3 words and its weakref
  list at obj-4 words, when its type has Py_TPFLAGS_MANAGED_DICT or Py_TPFLAGS_MANAGED_WEAKREF.

Objects313 adds 3.13's inline values: an instance of a plain class keeps its attribute values
right after the object (at tp_basicsize) in a PyDictValues (a header of capacity, size,
embedded and valid bytes, the values, then the insertion order), until a dict takes them over;
and a split dict's ma_values points at such a PyDictValues, not at the values themselves.

3.12 itself is objects_312.Objects312: Objects312Base with its tagged pre-header word (the
values - 1, or the dict) and DictKeys311's values format.
"""
from coroner_layouts.objects import PTR, DictKeys311, Objects311
from coroner_mem import BadRead, Layout as CStruct

MAX_VALUES_CAPACITY = 1 << 16


class Objects312Base(Objects311):
    # Include/object.h (3.12+)
    FLAGS = dict(Objects311.FLAGS, managed_weakref=1 << 3)
    # Include/internal/pycore_object.h: _PyType_PreHeaderSize, MANAGED_DICT_OFFSET.
    MANAGED_PRE_HEADER = 2 * PTR
    MANAGED_DICT_OFFSET = -3 * PTR
    # Include/cpython/longintrepr.h (3.12+): _PyLong_NON_SIZE_BITS and the sign values.
    LONG_NON_SIZE_BITS = 3
    LONG_SIGN_MASK = 3
    LONG_SIGN_NEGATIVE = 2
    STR_READY = False

    def __init__(self, layout):
        Objects311.__init__(self, layout)
        self.lv_tag = self.lo["lv_tag"]

    def int_record(self):
        return {"size_offset": self.lv_tag, "shift": self.LONG_NON_SIZE_BITS, "signed": False,
                "min_digits": self.INT_MIN_DIGITS}

    def _int_header(self, addr):
        tag = self.mem.u64(addr + self.lv_tag)
        return tag >> self.LONG_NON_SIZE_BITS, (tag & self.LONG_SIGN_MASK) == self.LONG_SIGN_NEGATIVE

    def managed_flags(self):
        """The tp_flags whose instances carry the pre-header (Py_TPFLAGS_PREHEADER)."""
        return self.FLAGS["managed_dict"] | self.FLAGS["managed_weakref"]


class DictKeys313(DictKeys311):
    """Keys as 3.11 (log2 sizes, general and unicode entries); a split dict's values are a
    PyDictValues whose insertion order follows its `capacity` values."""

    def __init__(self, mem):
        DictKeys311.__init__(self, mem)
        dv = CStruct("PyDictValues")
        self.dv = dv
        self.values_header = dv["values"]

    def items(self, keys, values, used):
        if not values:
            yield from DictKeys311.items(self, keys, values, used)
            return
        mem = self.mem
        if not 0 <= used < 1 << 40:
            raise ValueError("implausible dict size")
        kind, nentries, entries = self.header(keys)
        if kind == self.GENERAL:
            raise ValueError("values with a general keys table")
        dv = self.dv
        head = mem.read(values, self.values_header)
        capacity = head[dv["capacity"]]
        size = head[dv["size"]]
        count = min(used, size)
        at = values + self.values_header
        order = mem.read(at + PTR * capacity, count) if count else b""
        esize, koff, _voff = self.unicode
        for i in range(count):
            ix = order[i]
            if ix >= nentries or ix >= capacity:
                continue
            v = mem.u64(at + PTR * ix)
            if v:
                yield mem.u64(entries + esize * ix + koff), v


class Objects313(Objects312Base):
    FLAGS = dict(Objects312Base.FLAGS, inline_values=1 << 2)
    DICT_KEYS = DictKeys313

    def managed_record(self):
        dv = self.keys.dv
        return {
            "flags": self.managed_flags(),
            "pre_header_size": self.MANAGED_PRE_HEADER,
            "dict_offset": self.MANAGED_DICT_OFFSET,
            "values": {"kind": "inline", "flags": self.FLAGS["inline_values"],
                       "header": self.keys.values_header, "valid": dv["valid"], "capacity": dv["capacity"]},
        }

    def _basicsize(self, tp):
        return self.mem.i64(tp + self.tp["tp_basicsize"])

    def inline_values(self, addr, tp, flags):
        """Address of an instance's inline PyDictValues when they hold its attributes, else 0."""
        if not flags & self.FLAGS["inline_values"]:
            return 0
        values = addr + self._basicsize(tp)
        return values if self.mem.u8(values + self.keys.dv["valid"]) else 0

    def values_slots(self, addr, tp, flags):
        # The inline values after the object: the slots its own capacity byte says it has.
        values = self.inline_values(addr, tp, flags)
        if not values:
            return 0, 0
        capacity = self.mem.u8(values + self.keys.dv["capacity"])
        return values + self.keys.values_header, min(capacity, 64)

    def values_array(self, tp, flags):
        """(slots, bytes) of the inline values an instance of a class with
        Py_TPFLAGS_INLINE_VALUES carries after its tp_basicsize, as _PyInlineValuesSize()
        sizes them from the class's shared keys now: the insertion-order bytes rounded up to a
        pointer, the header word, and one pointer a slot. (0, 0) for other types.
        Instances made while the shared keys still shrank (_PyObject_InitInlineValues takes a
        slot off them each time until one is left) have more: each says its own in its
        capacity byte, which the census reads (managed_record)."""
        if not (flags & self.FLAGS["inline_values"] and flags & self.FLAGS["heaptype"]):
            return 0, 0
        try:
            keys = self.mem.u64(tp + self.ht["ht_cached_keys"])
            slots = self.keys.values_slots(keys) if keys else 0
        except BadRead:
            slots = 0
        if not 0 < slots < MAX_VALUES_CAPACITY:
            return 0, 0
        return slots, ((slots + PTR - 1) & ~(PTR - 1)) + (slots + 1) * PTR
