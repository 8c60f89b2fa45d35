"""Object decoders of 3.6 to 3.10 (read on 3.9): what differs from 3.11.

- No managed dicts: an instance's __dict__ is a pointer at tp_dictoffset, and no pre-header
  precedes the GC head (3.11 added both). The flag bit 3.11 uses (1 << 4) is unused here, so the
  census gets 0 for it, and a 0 pre-header.
- The dict keys are 'sized' (DictKeys310): dk_size slots, indices of 1, 2, 4 or 8 bytes by that
  size (DK_IXSIZE), then PyDictKeyEntry (hash, key, value) entries only, for combined and split
  tables alike. A split dict keeps its values in ma_values, one slot per entry of the shared keys,
  in the entries' order.
- An int of value 0 has no digit (_PyLong_New allocates size digits; 3.11 gives it one).

Strings are PEP 393 as in 3.11 (PyASCIIObject still has wstr: the sizes come from DWARF).
"""
from coroner_layouts.objects import PLAUSIBLE_SIZE, PTR, DictKeys311, Objects311
from coroner_mem import Layout as CStruct, u64_at

MAX_SCAN = 1 << 20


class DictKeys310(DictKeys311):
    SIZE_FORMAT = "sized"

    def __init__(self, mem):  # Not DictKeys311's: there is no PyDictUnicodeEntry before 3.11.
        self.mem = mem
        self.dk = CStruct("PyDictKeysObject")
        general = CStruct("PyDictKeyEntry")
        self.general = (general.size, general["me_key"], general["me_value"])
        self.unicode = self.general

    @staticmethod
    def index_bytes(size):
        """DK_IXSIZE: the bytes of one index of a table of `size` slots."""
        return 1 if size <= 0xFF else 2 if size <= 0xFFFF else 4 if size <= 0xFFFFFFFF else 8

    def header(self, keys):
        """(GENERAL, nentries, address of the first entry); ValueError when implausible."""
        dk = self.dk
        raw = self.mem.read(keys, dk.size)
        size = u64_at(raw, dk["dk_size"])
        nentries = u64_at(raw, dk["dk_nentries"])
        if not 0 < size < 1 << 40 or size & (size - 1) or nentries > size:
            raise ValueError("implausible dict keys")
        return self.GENERAL, nentries, keys + dk["dk_indices"] + self.index_bytes(size) * size

    def items(self, keys, values, used):
        mem = self.mem
        if not 0 <= used < PLAUSIBLE_SIZE:
            raise ValueError("implausible dict size")
        _kind, nentries, entries = self.header(keys)
        esize, koff, voff = self.general
        scan = min(nentries, MAX_SCAN)
        done = 0
        while done < scan:
            n = min(32, scan - done)
            raw = mem.read(entries + esize * done, esize * n)
            vals = mem.ptrs(values + PTR * done, n) if values else None
            for j in range(n):
                k = u64_at(raw, j * esize + koff)
                v = vals[j] if values else u64_at(raw, j * esize + voff)
                if k and v:
                    yield k, v
            done += n

    def shared_keys(self, keys, limit):
        _kind, nentries, entries = self.header(keys)
        esize, koff, _voff = self.general
        for ix in range(min(nentries, limit)):
            yield ix, self.mem.u64(entries + esize * ix + koff)

    def values_slots(self, keys):
        return 0  # no values array outside a dict before 3.11

    def record(self):
        dk = self.dk
        return {
            "format": self.SIZE_FORMAT,
            "header_size": dk["dk_indices"],
            "size": dk["dk_size"],
            "nentries": dk["dk_nentries"],
            "entry_general": self.general[0],
            "key_general": self.general[1],
            "value_general": self.general[2],
            "usable_num": self.USABLE[0],
            "usable_den": self.USABLE[1],
        }


class Objects310(Objects311):
    FLAGS = dict(Objects311.FLAGS, managed_dict=0)
    MANAGED_PRE_HEADER = 0
    MANAGED_DICT_OFFSET = None
    MANAGED_VALUES_OFFSET = None
    INT_MIN_DIGITS = 0
    DICT_KEYS = DictKeys310

    def managed_record(self):
        return {"flags": 0, "pre_header_size": 0, "dict_offset": None, "values": None}
