"""Where the 2.7 heap is, for the census (the record is RawHeap in src/model/raw.ts).

What differs from 3.11: PyGC_Head is a 32-byte union (with a long double) whose gc_refs says
whether the object is tracked (_PyGC_REFS_UNTRACKED, -2, when not); no instance has a managed
pre-header; an int's digit count is ob_size; dicts keep their own table; `unicode` has its text in
a buffer of its own; tp_subclasses is a list of weak references; obmalloc has 256 KiB arenas of
4 KiB pools, 8-byte alignment and a 256-byte threshold; the collector's state is statics
(generations, garbage) in Modules/gcmodule.c. And some objects live outside both pymalloc and any
single-object malloc chunk: ints and floats are carved out of malloc'd blocks of about 1000 bytes
(Objects/intobject.c, floatobject.c: block_list, each block a `next` pointer then the objects; a
free one has refcount 0 and its ob_type links the free list), the small ints among them. Those
blocks are the record's static_regions.
"""
import gdb

from coroner_layouts.heap import LAYOUT_VERSION, MAX_TYPES, Heap311, PymallocFromCore, StaticCollector, glibc
from coroner_mem import BadRead, Layout as CStruct, address_of, minimal_symbol, u64_at

MAX_BLOCKS = 1 << 22  # int/float blocks followed on one list (4 GB of them)
PROBE_BLOCKS = 1000  # blocks looked at to tell the int list from the float list


class Heap27(StaticCollector, PymallocFromCore, Heap311):
    ARENA_SIZE = 256 << 10
    POOL_SIZE = 4 << 10
    # Objects/obmalloc.c: read off the core (PymallocFromCore); these are 2.7.15's.
    PYMALLOC_ALIGNMENT = 16
    PYMALLOC_THRESHOLD = 512
    # Include/objimpl.h of 2.7: gc_refs is _PyGC_REFS_UNTRACKED, unshifted
    GC_TRACKED_FIELD = "gc_refs"
    GC_UNTRACKED = -2
    # The block lists of Objects/intobject.c and Objects/floatobject.c: (struct, its element type).
    BLOCKS = (("PyIntBlock", "PyInt_Type", "PyIntObject"), ("PyFloatBlock", "PyFloat_Type", "PyFloatObject"))

    _old_style_slots = None

    def heap_info(self, warn):
        o = self.objects
        gc_head = CStruct("PyGC_Head")
        return {
            "layout_version": LAYOUT_VERSION,
            "object": {"refcnt": o.ob["ob_refcnt"], "type": o.ob["ob_type"], "size": o.var["ob_size"]},
            "gc_head_size": gc_head.size,
            "pre_header_size": 0,
            "tracked": self.tracked_rule(gc_head),
            "managed": o.managed_record(),
            "int": o.int_record(),
            "flags": o.flags_record(),
            "str": o.str_record(),
            "list": {"allocated": o.li["allocated"], "ob_item": o.li["ob_item"]},
            "dict": o.dict_record(),
            "dict_keys": o.dict_keys_record(),
            "set": {"mask": o.se["mask"], "table": o.se["table"], "smalltable": o.se["smalltable"],
                    "entry": o.setentry.size},
            "bytearray": {"alloc": o.ba["ob_alloc"], "bytes": o.ba["ob_bytes"]},
            "tuple": {"items": o.tu["ob_item"]},
            "cell": {"ref": o.ce["ob_ref"]},
            # 2.7's module has no md_name: its name is only its dict's __name__.
            "module": {"dict": o.mo["md_dict"], "name": None},
            "types": self.types(warn),
            "static_regions": self.static_regions(warn),
            "pymalloc": self.pymalloc(warn),
            "gc": self.gc_state(warn),
            "glibc": glibc(self.mem, warn),
            "old_style": self.old_style(warn),
        }

    def old_style(self, warn):
        """Instances of old-style classes are all of type `instance`: the census names them by
        their class (in_class). The classes are found where programs keep them, in the modules'
        globals; an instance of a class defined elsewhere (inside a function) stays `instance`."""
        o = self.objects
        mem = self.mem
        class_type = address_of("PyClass_Type")
        cl = CStruct("PyClassObject")
        classes = {}
        try:
            interp = self.layout.runtime.interpreters()[0]
            modules = mem.u64(interp + CStruct("PyInterpreterState")["modules"])
            for _name, module in o.dict_items(modules):
                if len(classes) >= MAX_TYPES:
                    break
                module_dict = mem.u64(module + o.mo["md_dict"]) if module else 0
                if not module_dict or module == o.none_addr:
                    continue
                for _key, value in o.dict_items(module_dict):
                    if value and value not in classes and mem.u64(value + o.ob["ob_type"]) == class_type:
                        module_name = _dict_get(o, mem.u64(value + cl["cl_dict"]), "__module__")
                        classes[value] = {"address": value, "name": o.str_value(mem.u64(value + cl["cl_name"])) or "?",
                                          "module": module_name}
        except (BadRead, ValueError, IndexError, gdb.error) as e:
            warn("census: old-style classes not found (their instances count as `instance`): %s" % e)
        return {
            "instance_type": address_of("PyInstance_Type"),
            "class_offset": CStruct("PyInstanceObject")["in_class"],
            "classes": list(classes.values()),
        }

    def _subclass_refs(self, subclasses):
        # 2.7's tp_subclasses is a list of weak references.
        described = self.objects.describe(subclasses)
        return described[1] if described[0] == "list" else ()

    def _slots(self, t, raw, flags):
        # What the collector's traverse of old-style instances and classes follows: their fields
        # (tp_dictoffset is 0 for both, so the dicts are among them).
        if self._old_style_slots is None:
            inst, cl = CStruct("PyInstanceObject"), CStruct("PyClassObject")
            self._old_style_slots = {
                address_of("PyInstance_Type"): [inst["in_class"], inst["in_dict"]],
                address_of("PyClass_Type"): [cl[f] for f in ("cl_bases", "cl_dict", "cl_name", "cl_getattr", "cl_setattr", "cl_delattr")],
            }
        return self._old_style_slots.get(t) or self._object_slots(raw, flags)

    def static_regions(self, warn):
        """The int and float blocks: every block of both block lists."""
        mem = self.mem
        out = []
        for struct_name, type_name, object_name in self.BLOCKS:
            try:
                block = CStruct(struct_name)
                size = block.size
                slots = (block["objects"], CStruct(object_name).size)
                type_addr = address_of(type_name)
            except (gdb.error, KeyError) as e:
                warn("census: the %s list was not found: %s" % (struct_name, e))
                continue
            head = self._block_list(type_addr, size, slots)
            if head is None:
                warn("census: the block list of %s was not found; its objects are not counted" % type_name)
                continue
            seen = set()
            block = head
            try:
                while block and block not in seen and len(seen) < MAX_BLOCKS:
                    seen.add(block)
                    out.append({"start": block, "size": size})
                    block = mem.u64(block)
            except BadRead as e:
                warn("census: the block list of %s is unreadable at 0x%x: %s" % (type_name, block, e))
        return out

    def _block_list(self, type_addr, size, slots):
        """The head of the block list whose blocks hold objects of type_addr: intobject.c and
        floatobject.c both name theirs block_list (block_list.lto_priv.N in an LTO build), so each
        candidate is told by what its first block holds."""
        candidates = []
        for name in ("block_list", "'block_list.lto_priv.0'", "'block_list.lto_priv.1'", "'block_list.lto_priv.2'"):
            try:
                at = address_of(name)
            except gdb.error:
                continue
            if at not in candidates:
                candidates.append(at)
        if not candidates:
            at = minimal_symbol("block_list")
            if at is not None:
                candidates.append(at)
        o = self.objects
        for at in candidates:
            try:
                block = self.mem.u64(at)
                # slots: (offset of the first object, object size). A free one's ob_type links the
                # free list, so any slot typed type_addr tells the list; a block may be all free.
                for _ in range(PROBE_BLOCKS):
                    if not block:
                        break
                    raw = self.mem.read(block, size)
                    for k in range(slots[0], size - slots[1] + 1, slots[1]):
                        if u64_at(raw, k + o.ob["ob_type"]) == type_addr:
                            return self.mem.u64(at)
                    block = u64_at(raw, 0)
            except BadRead:
                continue
        return None


def _dict_get(objects, d, name):
    """The text of d[name] for a str key, or None."""
    if not d:
        return None
    for key, value in objects.dict_items(d):
        if key and objects.str_value(key) == name:
            return objects.str_value(value)
    return None
