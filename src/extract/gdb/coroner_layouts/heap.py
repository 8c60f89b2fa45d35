"""Where the heap is, for the census that coroner walks in TypeScript.

gdb does what it is good at here: symbols (including LTO statics that only exist as minimal
symbols), DWARF struct layouts, and the table of every ready type. The walk of millions of
blocks is not done here; this module only says where to look and how to read what is there,
complete enough that the walkers need no CPython constant of their own (RawHeap in
src/model/raw.ts). Facts about objects come from the object decoders (objects.py).
"""
import gdb

from coroner_mem import BadRead, Layout as CStruct, address_of, field_path_offset, i64_at, minimal_symbol, u64_at

# The shape of the record; raised when a key changes meaning, so that a reader can tell.
LAYOUT_VERSION = 1
MAX_TYPES = 200000
MAX_MEMBERS = 256
GC_GENERATIONS = 3

# malloc/arena.c: HEAP_MAX_SIZE = 2 * DEFAULT_MMAP_THRESHOLD_MAX = 2 * 4 MiB * sizeof(long).
GLIBC_HEAP_MAX = 64 << 20
# Include/structmember.h: member types that hold a PyObject*.
T_OBJECT = 6
T_OBJECT_EX = 16


class Heap311:
    # Objects/obmalloc.c with WITH_PYMALLOC_RADIX_TREE on a 64-bit build (USE_LARGE_ARENAS/POOLS,
    # 3.10+; before, 256 KiB arenas of 4 KiB pools).
    ARENA_SIZE = 1 << 20
    POOL_SIZE = 1 << 14
    # Objects/obmalloc.c: ALIGNMENT and SMALL_REQUEST_THRESHOLD (3.8+: 16 and 512; 3.0-3.7: 8
    # and 512; 2.7: 8 and 256). Block sizes are multiples of the alignment up to the threshold.
    PYMALLOC_ALIGNMENT = 16
    PYMALLOC_THRESHOLD = 512
    # Include/internal/pycore_gc.h (3.8+): _PyObject_GC_IS_TRACKED is _gc_next != 0. Before 3.8:
    # the gc_refs field, _PyGC_REFS_UNTRACKED (-2) when untracked, shifted left by one bit from
    # 3.4 on (_PyGC_REFS_SHIFT: bit 0 is the finalized flag of PEP 442).
    GC_TRACKED_FIELD = "_gc_next"
    GC_UNTRACKED = 0
    GC_REFS_SHIFT = 0

    def __init__(self, layout):
        # Nothing is looked up here: a heap that cannot be described costs the census, not the
        # threads (heap_info's caller turns its errors into a warning).
        self.layout = layout
        self.mem = layout.mem
        self.objects = layout.objects

    def heap_info(self, warn):
        o = self.objects
        gc_head = CStruct("PyGC_Head")
        return {
            "layout_version": LAYOUT_VERSION,
            "object": {"refcnt": o.ob["ob_refcnt"], "type": o.ob["ob_type"], "size": o.var["ob_size"]},
            "gc_head_size": gc_head.size,
            # Kept while readers move to managed.pre_header_size.
            "pre_header_size": o.MANAGED_PRE_HEADER,
            "tracked": self.tracked_rule(gc_head),
            "managed": o.managed_record(),
            "int": o.int_record(),
            "flags": o.flags_record(),
            "str": {
                "format": "pep393",
                "ascii_size": o.asc.size,
                "compact_size": o.cu.size,
                "unicode_size": o.uo.size,
                "length": o.asc["length"],
                "state": o.asc["state"],
                "kind": o.st_kind,
                "compact": o.st_compact,
                "ascii": o.st_ascii,
            },
            "list": {"allocated": o.li["allocated"], "ob_item": o.li["ob_item"]},
            "dict": {"ma_keys": o.di["ma_keys"], "ma_values": o.di["ma_values"], "ma_used": o.di["ma_used"]},
            "dict_keys": o.keys.record(),
            "set": {"mask": o.se["mask"], "table": o.se["table"], "smalltable": o.se["smalltable"],
                    "entry": o.setentry.size},
            "bytearray": {"alloc": o.ba["ob_alloc"], "bytes": o.ba["ob_bytes"]},
            "tuple": {"items": o.tu["ob_item"]},
            "cell": {"ref": o.ce["ob_ref"]},
            "module": {"dict": o.mo["md_dict"], "name": o.mo["md_name"]},
            "types": self.types(warn),
            # Objects that live in the interpreter's own data, not in any heap (small ints, one-character
            # and identifier strings, the empty tuple and bytes): 3.11 keeps them in one struct.
            "static_regions": self.static_regions(warn),
            "pymalloc": self.pymalloc(warn),
            "gc": self.gc_state(warn),
            "glibc": glibc(self.mem, warn),
        }

    def tracked_rule(self, gc_head):
        return {"offset": -gc_head.size + gc_head[self.GC_TRACKED_FIELD], "untracked": self.GC_UNTRACKED,
                "shift": self.GC_REFS_SHIFT}

    def types(self, warn):
        """Every ready type, found from `object` through tp_subclasses (a dict of weakrefs in 3.11)."""
        mem = self.mem
        o = self.objects
        tp = o.tp
        wr_object = CStruct("PyWeakReference")["wr_object"]
        heaptype = o.FLAGS["heaptype"]
        base = address_of("PyBaseObject_Type")
        seen = {base}
        queue = [base]
        out = []
        while queue and len(out) < MAX_TYPES:
            t = queue.pop()
            try:
                raw = mem.read(t, tp.size)
                flags = u64_at(raw, tp["tp_flags"])
                tp_name = mem.cstring(u64_at(raw, tp["tp_name"]), 512)
                module = None
                name = tp_name
                if flags & heaptype:
                    module, _short, qual = o.type_names(t, raw, flags, tp_name)
                    name = qual[len(module) + 1:] if module and qual.startswith(module + ".") else qual
                values_count, values_size = o.values_array(t, flags)
                out.append({
                    "address": t,
                    "name": name,
                    "module": module,
                    "basicsize": u64_at(raw, tp["tp_basicsize"]),
                    "itemsize": u64_at(raw, tp["tp_itemsize"]),
                    "flags": flags,
                    "values_size": values_size,
                    "values_count": values_count,
                    "dictoffset": i64_at(raw, tp["tp_dictoffset"]),
                    "slots": self._slots(t, raw, flags),
                })
                subclasses = self._subclasses(t, raw, flags)
                if subclasses:
                    for ref in self._subclass_refs(subclasses):
                        sub = mem.u64(ref + wr_object)
                        if sub and sub not in seen and sub != o.none_addr:
                            seen.add(sub)
                            queue.append(sub)
            except (BadRead, ValueError, UnicodeError) as e:
                warn("type table: cannot read the type at 0x%x: %s" % (t, e))
        return out

    def _subclasses(self, t, raw, flags):
        """The dict of weakrefs to a type's subclasses (its tp_subclasses), or 0."""
        return u64_at(raw, self.objects.tp["tp_subclasses"])

    def _subclass_refs(self, subclasses):
        """The weak references in a type's tp_subclasses container."""
        return (ref for _key, ref in self.objects.dict_items(subclasses))

    def _slots(self, t, raw, flags):
        """Offsets of the object references the collector's traverse of an instance follows
        besides its layout's own fields."""
        return self._object_slots(raw, flags)

    def _object_slots(self, raw, flags):
        """Offsets of the object references a class's __slots__ add (its tp_members of object type):
        what the collector's traverse of such an instance follows besides the dict."""
        if not flags & self.objects.FLAGS["heaptype"]:
            return []
        mem = self.mem
        members = u64_at(raw, self.objects.tp["tp_members"])
        if not members:
            return []
        md = CStruct("PyMemberDef")
        out = []
        try:
            for i in range(MAX_MEMBERS):
                m = members + i * md.size
                if not mem.u64(m + md["name"]):
                    break
                if mem.i32(m + md["type"]) in (T_OBJECT, T_OBJECT_EX):
                    out.append(mem.i64(m + md["offset"]))
        except BadRead:
            pass
        return out

    def static_regions(self, warn):
        try:
            start = int(gdb.parse_and_eval("(unsigned long)&_PyRuntime.global_objects"))
            size = int(gdb.parse_and_eval("sizeof(_PyRuntime.global_objects)"))
            return [{"start": start, "size": size}]
        except gdb.error as e:
            warn("census: the interpreter's static objects were not found: %s" % e)
            return []

    def pymalloc(self, warn):
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
        return self._pymalloc_record(arenas, maxarenas)

    def _pymalloc_record(self, arenas, maxarenas):
        """The pymalloc record, given the arena table's address and length."""
        pool = CStruct("struct pool_header")
        align = self.PYMALLOC_ALIGNMENT
        return {
            "arenas": arenas,
            "maxarenas": maxarenas,
            "arena_size": self.ARENA_SIZE,
            "pool_size": self.POOL_SIZE,
            # POOL_OVERHEAD: the pool header rounded up to the alignment.
            "pool_overhead": (pool.size + align - 1) & ~(align - 1),
            "arena_object": _offsets("struct arena_object", ["address", "pool_address", "nfreepools", "ntotalpools"]),
            "pool_header": {"size": pool.size, "count": pool["ref"], "freeblock": pool["freeblock"], "arenaindex": pool["arenaindex"],
                            "szidx": pool["szidx"], "nextoffset": pool["nextoffset"], "maxnextoffset": pool["maxnextoffset"]},
            "alignment": align,
            "threshold": self.PYMALLOC_THRESHOLD,
            "size_classes": self.PYMALLOC_THRESHOLD // align,
        }

    def gc_state(self, warn):
        mem = self.mem
        try:
            gc = self._gc_address()
            st = CStruct("struct _gc_runtime_state")
            gen = CStruct("struct gc_generation")
            heads = []
            for i in range(GC_GENERATIONS):
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

    def _gc_address(self):
        """The collector's state (struct _gc_runtime_state): in the interpreter state from 3.9 on."""
        interp = self.layout.runtime.interpreters()[0]
        return interp + field_path_offset("PyInterpreterState", "gc")


class PymallocFromCore:
    """pymalloc's alignment and size classes read off the core, for the versions whose builds
    differ in them (2.7.0-2.7.14 align to 8 with a 256-byte threshold, 2.7.15 on to 16 with 512,
    bpo-27987; 3.0-3.7 to 8 with 512). They are macros, not in DWARF: the size classes come from
    the size of usedpools (two pointers a class), the alignment from a used pool (its block size
    is POOL_SIZE - maxnextoffset, and (szidx + 1) * ALIGNMENT). The class's PYMALLOC_ALIGNMENT and
    PYMALLOC_THRESHOLD are the defaults when that fails."""

    def pymalloc(self, warn):
        record = super().pymalloc(warn)
        if record is None:
            return None
        found = self._pymalloc_classes(record)
        if found is None:
            warn("pymalloc: its alignment was not found in the core; assuming %d and a threshold of %d"
                 % (self.PYMALLOC_ALIGNMENT, self.PYMALLOC_THRESHOLD))
            return record
        align, classes = found
        record["alignment"] = align
        record["size_classes"] = classes
        record["threshold"] = classes * align
        record["pool_overhead"] = (record["pool_header"]["size"] + align - 1) & ~(align - 1)
        return record

    def _pymalloc_classes(self, record):
        """(ALIGNMENT, number of size classes) read off the core, or None."""
        try:
            # usedpools[2 * ((NB_SMALL_SIZE_CLASSES + 7) / 8) * 8]: exact for 32 classes.
            classes = int(gdb.parse_and_eval("sizeof(usedpools)")) // (2 * 8)
        except gdb.error:
            return None
        mem = self.mem
        ao = record["arena_object"]
        ph = record["pool_header"]
        try:
            for a in range(min(record["maxarenas"], 64)):
                arena = record["arenas"] + a * ao["sizeof"]
                address = mem.u64(arena + ao["address"])
                if not address:
                    continue
                pool = (address + self.POOL_SIZE - 1) & ~(self.POOL_SIZE - 1)
                end = mem.u64(arena + ao["pool_address"])
                while pool < end:
                    if mem.u32(pool + ph["count"]):
                        size = self.POOL_SIZE - mem.u32(pool + ph["maxnextoffset"])
                        szidx = mem.u32(pool + ph["szidx"])
                        if szidx < classes and size > 0 and size % (szidx + 1) == 0:
                            align = size // (szidx + 1)
                            if align in (8, 16):
                                return align, classes
                    pool += self.POOL_SIZE
        except BadRead:
            return None
        return None


class StaticCollector:
    """The collector's state in statics of Modules/gcmodule.c (generations, garbage, enabled,
    collecting) as before 3.7 gathered it in _PyRuntime.gc."""

    def gc_state(self, warn):
        mem = self.mem
        gens_at = minimal_symbol("generations")
        garbage_at = minimal_symbol("garbage")
        enabled_at = minimal_symbol("enabled")
        collecting_at = minimal_symbol("collecting")
        if gens_at is None:
            warn("gc: the collector's generations were not found")
            return None
        try:
            gen = CStruct("struct gc_generation")
            heads = []
            for i in range(GC_GENERATIONS):
                g = gens_at + i * gen.size
                heads.append({"head": g + gen["head"], "threshold": mem.i32(g + gen["threshold"]), "count": mem.i32(g + gen["count"])})
            return {
                "enabled": mem.i32(enabled_at) != 0 if enabled_at is not None else True,
                "collecting": mem.i32(collecting_at) != 0 if collecting_at is not None else False,
                "generations": heads,
                "permanent": 0,  # no permanent generation before 3.7 (gc.freeze)
                "garbage": mem.u64(garbage_at) if garbage_at is not None else 0,
            }
        except (BadRead, KeyError, gdb.error) as e:
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
    version = _glibc_version(mem)
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
        # Safe-linking came with 2.32; an unknown version is taken for a recent one.
        "safe_linking": version is None or version >= (2, 32),
    }


def _glibc_version(mem):
    """(major, minor) of the process's glibc, from the version string libc carries, or None."""
    at = minimal_symbol("__libc_version")
    try:
        text = mem.cstring(at, 16) if at is not None else ""
    except BadRead:
        return None
    parts = text.split(".")
    return (int(parts[0]), int(parts[1])) if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit() else None


def _offsets(struct, names):
    s = CStruct(struct)
    out = {"sizeof": s.size}
    for n in names:
        out[n] = s[n]
    return out
