"""CPython 3.11: where the heap is, for the census that coroner walks in TypeScript.

gdb does what it is good at here: symbols (including LTO statics that only exist as minimal
symbols), DWARF struct layouts, and the table of every ready type. The walk of millions of
blocks is not done here; this module only says where to look and how to read what is there.
"""
import re

import gdb

from coroner_mem import BadRead, Layout as CStruct, bitfield, field_path_offset

# Include/object.h: tp_flags bits the census needs.
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
# Objects/obmalloc.c with WITH_PYMALLOC_RADIX_TREE on a 64-bit build (USE_LARGE_ARENAS/POOLS).
ARENA_SIZE = 1 << 20
POOL_SIZE = 1 << 14
# malloc/arena.c: HEAP_MAX_SIZE = 2 * DEFAULT_MMAP_THRESHOLD_MAX = 2 * 4 MiB * sizeof(long).
GLIBC_HEAP_MAX = 64 << 20
# A managed dict's pre-header (dict and values pointers) before the GC head in 3.11.
PRE_HEADER = 16
# The heap record's own version (src/model/raw.ts HEAP_LAYOUT_VERSION).
LAYOUT_VERSION = 1
# Objects/obmalloc.c: ALIGNMENT and SMALL_REQUEST_THRESHOLD from 3.8 on.
PYMALLOC_ALIGNMENT = 16
PYMALLOC_THRESHOLD = 512
# Objects/dictobject.c: USABLE_FRACTION(n) = (n << 1) / 3.
USABLE_FRACTION = (2, 3)

MAX_TYPES = 200000


def minimal_symbol(name):
    """Address of a symbol that may only exist as a minimal symbol (an LTO static: name.lto_priv)."""
    for spelled in (name, "'%s.lto_priv.0'" % name):
        try:
            return int(gdb.parse_and_eval("(unsigned long)&%s" % spelled))
        except (gdb.error, RuntimeError, ValueError):
            pass
    # The slow way (a regex over every symbol, a quarter second): other suffixes GCC may give.
    try:
        text = gdb.execute("info variables ^%s" % name, to_string=True)
    except gdb.error:
        return None
    for line in text.splitlines():
        m = re.match(r"\s*0x([0-9a-f]+)\s+%s(\.lto_priv(\.\d+)?)?\s*$" % re.escape(name), line)
        if m:
            return int(m.group(1), 16)
    return None


def _offsets(struct, names):
    s = CStruct(struct)
    out = {"sizeof": s.size}
    for n in names:
        out[n] = s[n]
    return out


def heap_info(layout, warn):
    mem = layout.mem
    gc_head = CStruct("PyGC_Head")
    general = CStruct("PyDictKeyEntry")
    unicode_ = CStruct("PyDictUnicodeEntry")
    info = {
        "layout_version": LAYOUT_VERSION,
        "object": {"refcnt": layout.ob["ob_refcnt"], "type": layout.ob["ob_type"], "size": layout.var["ob_size"]},
        "gc_head_size": gc_head.size,
        # _gc_next is 0 while an object is untracked.
        "tracked": {"offset": gc_head["_gc_next"] - gc_head.size, "untracked": 0},
        # 3.11: the dict pointer at -3 words, the values pointer at -4, before the GC head.
        "managed": {"flags": FLAGS["managed_dict"], "pre_header_size": PRE_HEADER, "dict_offset": -24,
                    "values": {"kind": "pre-header", "offset": -32}},
        "int": {"size_offset": layout.var["ob_size"], "shift": 0, "signed": True, "min_digits": 1},
        "pre_header_size": PRE_HEADER,
        "flags": FLAGS,
        "str": {
            "ascii_size": layout.asc.size,
            "compact_size": layout.cu.size,
            "unicode_size": layout.uo.size,
            "length": layout.asc["length"],
            "state": layout.asc["state"],
            "kind": layout.st_kind,
            "compact": layout.st_compact,
            "ascii": layout.st_ascii,
        },
        "list": {"allocated": layout.li["allocated"], "ob_item": layout.li["ob_item"]},
        "dict": {"ma_keys": layout.di["ma_keys"], "ma_values": layout.di["ma_values"], "ma_used": layout.di["ma_used"]},
        "dict_keys": {
            "format": "log2",
            "key_general": general["me_key"],
            "value_general": general["me_value"],
            "key_unicode": unicode_["me_key"],
            "value_unicode": unicode_["me_value"],
            "usable_num": USABLE_FRACTION[0],
            "usable_den": USABLE_FRACTION[1],
            "header_size": layout.dk.size,
            "log2_size": layout.dk["dk_log2_size"],
            "log2_index_bytes": layout.dk["dk_log2_index_bytes"],
            "kind": layout.dk["dk_kind"],
            "nentries": layout.dk["dk_nentries"],
            "entry_general": layout.entry_general,
            "entry_unicode": layout.entry_unicode,
        },
        "set": {"mask": layout.se["mask"], "table": layout.se["table"], "smalltable": layout.se["smalltable"],
                "entry": layout.setentry.size},
        "bytearray": {"alloc": layout.ba["ob_alloc"], "bytes": layout.ba["ob_bytes"]},
        "tuple": {"items": layout.tu["ob_item"]},
        "cell": {"ref": layout.ce["ob_ref"]},
        "module": {"dict": layout.mo["md_dict"], "name": layout.mo["md_name"]},
        "types": types(layout, warn),
        # Objects that live in the interpreter's own data, not in any heap (small ints, one-character
        # and identifier strings, the empty tuple and bytes): 3.11 keeps them in one struct.
        "static_regions": static_regions(warn),
        "pymalloc": pymalloc(warn),
        "gc": gc_state(layout, warn),
        "glibc": glibc(mem, warn),
    }
    return info


def types(layout, warn):
    """Every ready type, found from `object` through tp_subclasses (a dict of weakrefs in 3.11)."""
    mem = layout.mem
    tp = layout.tp
    wr_object = CStruct("PyWeakReference")["wr_object"]
    base = int(gdb.parse_and_eval("(unsigned long)&PyBaseObject_Type"))
    seen = {base}
    queue = [base]
    out = []
    while queue and len(out) < MAX_TYPES:
        t = queue.pop()
        try:
            raw = mem.read(t, tp.size)
            flags = _q(raw, tp["tp_flags"])
            tp_name = mem.cstring(_q(raw, tp["tp_name"]), 512)
            module = None
            name = tp_name
            if flags & FLAGS["heaptype"]:
                module, short, qual = layout._type_names(t, raw, flags, tp_name)
                name = qual[len(module) + 1:] if module and qual.startswith(module + ".") else qual
            out.append({
                "address": t,
                "name": name,
                "module": module,
                "basicsize": _q(raw, tp["tp_basicsize"]),
                "itemsize": _q(raw, tp["tp_itemsize"]),
                "flags": flags,
                "values_size": _values_slots(layout, t, flags) and _values_bytes(_values_slots(layout, t, flags)),
                "values_count": _values_slots(layout, t, flags),
                "dictoffset": _i(raw, tp["tp_dictoffset"]),
                "slots": _object_slots(layout, raw, flags),
            })
            subclasses = _q(raw, tp["tp_subclasses"])
            if subclasses:
                for _key, ref in layout.dict_items(subclasses):
                    sub = mem.u64(ref + wr_object)
                    if sub and sub not in seen and sub != layout.none_addr:
                        seen.add(sub)
                        queue.append(sub)
        except (BadRead, ValueError, UnicodeError) as e:
            warn("type table: cannot read the type at 0x%x: %s" % (t, e))
    return out


def static_regions(warn):
    try:
        start = int(gdb.parse_and_eval("(unsigned long)&_PyRuntime.global_objects"))
        size = int(gdb.parse_and_eval("sizeof(_PyRuntime.global_objects)"))
        return [{"start": start, "size": size}]
    except gdb.error as e:
        warn("census: the interpreter's static objects were not found: %s" % e)
        return []


def _values_slots(layout, tp, flags):
    """Slots of the values array an instance of a plain class keeps its attributes in (3.11's
    managed dicts), from the class's shared keys as new_values() sizes it; 0 for other types."""
    if not (flags & FLAGS["managed_dict"] and flags & FLAGS["heaptype"]):
        return 0
    mem = layout.mem
    try:
        keys = mem.u64(tp + layout.ht["ht_cached_keys"])
        if not keys:
            return 0
        dk = layout.dk
        slots = mem.i64(keys + dk["dk_nentries"]) + mem.i64(keys + dk["dk_usable"])
        return slots if 0 < slots < 1 << 20 else 0
    except BadRead:
        return 0


def _values_bytes(slots):
    """new_values(): a prefix of insertion-order bytes rounded to a pointer, then the pointers."""
    return ((slots + 2 + 7) & ~7) + slots * 8


# Include/structmember.h: member types that hold a PyObject*.
T_OBJECT = 6
T_OBJECT_EX = 16


def _object_slots(layout, raw, flags):
    """Offsets of the object references a class's __slots__ add (its tp_members of object type):
    what the collector's traverse of such an instance follows besides the dict."""
    if not flags & FLAGS["heaptype"]:
        return []
    mem = layout.mem
    members = _q(raw, layout.tp["tp_members"])
    if not members:
        return []
    md = CStruct("PyMemberDef")
    out = []
    try:
        for i in range(256):
            m = members + i * md.size
            if not mem.u64(m + md["name"]):
                break
            if mem.i32(m + md["type"]) in (T_OBJECT, T_OBJECT_EX):
                out.append(mem.i64(m + md["offset"]))
    except BadRead:
        pass
    return out


def pymalloc(warn):
    arenas_at = minimal_symbol("arenas")
    maxarenas_at = minimal_symbol("maxarenas")
    if arenas_at is None or maxarenas_at is None:
        warn("pymalloc: the symbols arenas/maxarenas were not found; objects in pymalloc are not counted")
        return None
    inf = gdb.selected_inferior()
    try:
        arenas = int.from_bytes(bytes(inf.read_memory(arenas_at, 8)), "little")
        maxarenas = int.from_bytes(bytes(inf.read_memory(maxarenas_at, 4)), "little")
    except gdb.MemoryError as e:
        warn("pymalloc: cannot read the arena table: %s" % e)
        return None
    pool = CStruct("struct pool_header")
    return {
        "alignment": PYMALLOC_ALIGNMENT,
        "threshold": PYMALLOC_THRESHOLD,
        "size_classes": PYMALLOC_THRESHOLD // PYMALLOC_ALIGNMENT,
        "arenas": arenas,
        "maxarenas": maxarenas,
        "arena_size": ARENA_SIZE,
        "pool_size": POOL_SIZE,
        "pool_overhead": (pool.size + 15) & ~15,
        "arena_object": _offsets("struct arena_object", ["address", "pool_address", "nfreepools", "ntotalpools"]),
        "pool_header": {"size": pool.size, "count": pool["ref"], "freeblock": pool["freeblock"], "arenaindex": pool["arenaindex"],
                        "szidx": pool["szidx"], "nextoffset": pool["nextoffset"], "maxnextoffset": pool["maxnextoffset"]},
    }


def gc_state(layout, warn):
    mem = layout.mem
    try:
        interp = layout.interpreters()[0]
        gc = interp + field_path_offset("PyInterpreterState", "gc")
        st = CStruct("struct _gc_runtime_state")
        gen = CStruct("struct gc_generation")
        heads = []
        for i in range(3):
            g = gc + st["generations"] + i * gen.size
            heads.append({"head": g + gen["head"], "threshold": mem.i32(g + gen["threshold"]), "count": mem.i32(g + gen["count"])})
        perm = gc + st["permanent_generation"]
        return {
            "enabled": mem.i32(gc + st["enabled"]) != 0,
            "collecting": mem.i32(gc + st["collecting"]) != 0,
            "generations": heads,
            "permanent": perm + gen["head"],
            "garbage": mem.u64(gc + st["garbage"]),
        }
    except (BadRead, IndexError, KeyError, gdb.error) as e:
        warn("gc: cannot read the collector's state: %s" % e)
        return None


def glibc(mem, warn):
    """glibc malloc's arenas (needs libc6-dbg); None for another allocator or without debug info."""
    main_arena = minimal_symbol("main_arena")
    mp = minimal_symbol("mp_")
    if main_arena is None or mp is None:
        return None
    try:
        state = _offsets("struct malloc_state", ["top", "next", "system_mem", "fastbinsY", "bins"])
        par = _offsets("struct malloc_par", ["sbrk_base", "n_mmaps", "mmapped_mem", "mmap_threshold"])
        heap = _offsets("heap_info", ["ar_ptr", "prev", "size"])
    except (gdb.error, KeyError) as e:
        warn("glibc: malloc's structures are not in the debug info (apt-get install libc6-dbg): %s" % e)
        return None
    key_at = minimal_symbol("tcache_key")
    tcache_key = None
    if key_at is not None:
        try:
            tcache_key = mem.u64(key_at)
        except BadRead:
            pass
    return {
        "main_arena": main_arena,
        "mp": mp,
        # A random 64-bit value: as hex text, since JSON readers keep only 53 bits of a number.
        "tcache_key": None if tcache_key is None else "%x" % tcache_key,
        "malloc_state": state,
        "malloc_par": par,
        "heap_info": heap,
        "heap_max": GLIBC_HEAP_MAX,
    }


def _i(raw, off):
    return int.from_bytes(raw[off:off + 8], "little", signed=True)


def _q(raw, off):
    return int.from_bytes(raw[off:off + 8], "little")
