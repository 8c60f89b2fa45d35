"""Object decoders of 3.12: Objects312Base (lv_tag ints, no str `ready` bit, the two-word
pre-header with the weakref list), and 3.12's managed dict word.

A managed instance of 3.12 keeps one word at obj-3 words (_PyObject_DictOrValuesPointer): the
address of its values array - 1 when the low bit is set (_PyDictOrValues_SetValues; the
values are at word + 1), else its
dict (or NULL). The values array is as 3.11's (new_values(): a prefix of insertion-order bytes
before the pointers), so DictKeys311 reads the keys and values.
"""
from coroner_layouts.objects import MAX_SHARED_KEYS, PTR
from coroner_layouts.objects_313 import Objects312Base


class Objects312(Objects312Base):
    MANAGED_VALUES_OFFSET = None  # no word of its own: the tagged word at MANAGED_DICT_OFFSET

    def managed_record(self):
        return {
            "flags": self.managed_flags(),
            "pre_header_size": self.MANAGED_PRE_HEADER,
            "dict_offset": self.MANAGED_DICT_OFFSET,
            "values": {"kind": "tagged", "offset": self.MANAGED_DICT_OFFSET},
        }

    def instance_attr(self, addr, name):
        info = self.type_info(self.mem.u64(addr + self.ob["ob_type"]))
        if info is None:
            return 0
        if info[2] & self.FLAGS["managed_dict"] and self.mem.u64(addr + self.MANAGED_DICT_OFFSET) & 1:
            # values, not a dict: Objects311 reads them through values_slots()
            tp = self.mem.u64(addr + self.ob["ob_type"])
            values, slots = self.values_slots(addr, tp, info[2])
            keys = self.mem.u64(tp + self.ht["ht_cached_keys"]) if values else 0
            if not keys:
                return 0
            for ix, k in self.keys.shared_keys(keys, slots):
                if k and self.str_value(k) == name:
                    return self.mem.u64(values + PTR * ix)
            return 0
        return Objects312Base.instance_attr(self, addr, name)

    def values_slots(self, addr, tp, flags):
        word = self.mem.u64(addr + self.MANAGED_DICT_OFFSET)
        if not word & 1:
            return 0, 0
        return word + 1, MAX_SHARED_KEYS
