"""The bench's baseline: a straightforward gdb-Python walk of every pymalloc pool of a CPython 3.11 core.

    gdb -nx -batch -iex 'set auto-load off' -iex 'set debuginfod enabled off' \
        -x scripts/bench/gdb_pool_walk.py /usr/bin/python3.11 CORE

Prints one JSON line: {"objects", "blocks", "arenas", "pools", "types", "seconds"}.
`blocks` are the used blocks of every pool (the pool's freeblock list and everything at or past
nextoffset are free); `objects` the used blocks that hold a live object: a type pointer to a known
type at the offset the type's flags imply (0; 16 after the GC head; 32 after a managed dict's
pre-header and the GC head) and a refcount above 0 (tuples, lists and dicts on free lists keep
their type pointer with a refcount of 0). Known types: every type reachable from
PyBaseObject_Type through tp_subclasses. Only pymalloc is walked: objects over 512 bytes are in
malloc chunks and are not counted here. `seconds` is the time of the whole run after gdb loaded
the core. With GDB_POOL_WALK_BY_TYPE=1 in the environment, also "by_type": {tp_name: count}.

Plain on purpose (no caching beyond the type table, one bulk read per arena): it is what a
careful person writes first, the yardstick that coroner's census is measured against.
"""
import json
import os
import re
import struct
import time

import gdb

started = time.perf_counter()

POOL_SIZE = 16 << 10          # POOL_BITS 14 in 3.11's obmalloc.c (a macro: not in DWARF)
ALIGNMENT = 16                # ALIGNMENT_SHIFT 4 on 64-bit
TPFLAGS_MANAGED_DICT = 1 << 4
TPFLAGS_HAVE_GC = 1 << 14
SMALL_REQUEST_THRESHOLD = 512

inferior = gdb.selected_inferior()
u64 = struct.Struct("<Q")
i64 = struct.Struct("<q")


def read(addr, size):
    return bytes(inferior.read_memory(addr, size))


def symbol_address(name):
    """&name, also for LTO statics: under LTO `p &arenas` fails (optimized out) and the address is
    only in a minimal symbol named arenas.lto_priv (info variables lists it as non-debugging)."""
    try:
        return int(gdb.parse_and_eval("(unsigned long)&%s" % name))
    except gdb.error:
        pass
    text = gdb.execute("info variables ^%s" % name, to_string=True)
    for line in text.splitlines():
        m = re.match(r"\s*(0x[0-9a-f]+)\s+%s(\.lto_priv(\.\d+)?)?\s*$" % re.escape(name), line)
        if m:
            return int(m.group(1), 16)
    raise RuntimeError("symbol %s not found" % name)


def field_offset(type_name, field):
    for f in gdb.lookup_type(type_name).fields():
        if f.name == field:
            return f.bitpos // 8
    raise RuntimeError("%s has no field %s" % (type_name, field))


# ------------------------------------------------------------------ layouts, from DWARF
ARENA = gdb.lookup_type("struct arena_object")
ARENA_SIZEOF = ARENA.sizeof
A_ADDRESS = field_offset("struct arena_object", "address")
A_POOL_ADDRESS = field_offset("struct arena_object", "pool_address")
POOL = gdb.lookup_type("struct pool_header")
POOL_OVERHEAD = (POOL.sizeof + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
P_COUNT = field_offset("struct pool_header", "ref")
P_FREEBLOCK = field_offset("struct pool_header", "freeblock")
P_SZIDX = field_offset("struct pool_header", "szidx")
P_NEXTOFFSET = field_offset("struct pool_header", "nextoffset")
OB_REFCNT = field_offset("PyObject", "ob_refcnt")
OB_TYPE = field_offset("PyObject", "ob_type")
GC_HEAD = gdb.lookup_type("PyGC_Head").sizeof
PRE_HEADER = 2 * 8            # managed dict: dict and values pointers before the GC head (3.11)

# ------------------------------------------------------------------ the type table
type_ptr = gdb.lookup_type("PyTypeObject").pointer()
dict_ptr = gdb.lookup_type("PyDictObject").pointer()
keys_ptr = gdb.lookup_type("PyDictKeysObject").pointer()
entry_ptr = gdb.lookup_type("PyDictKeyEntry").pointer()
weakref_ptr = gdb.lookup_type("PyWeakReference").pointer()
none_addr = int(gdb.parse_and_eval("(unsigned long)&_Py_NoneStruct"))


def subclasses(t):
    """The types in t's tp_subclasses: a dict {id: weakref to the subclass} in 3.11."""
    d = t["tp_subclasses"]
    if int(d) == 0:
        return []
    d = d.cast(dict_ptr)
    keys = d["ma_keys"].cast(keys_ptr)
    if int(keys["dk_kind"]) != 0:  # DICT_KEYS_GENERAL: int keys
        return []
    n = int(keys["dk_nentries"])
    indices = int(keys["dk_indices"].address)
    entries = gdb.Value(indices + (1 << int(keys["dk_log2_index_bytes"]))).cast(entry_ptr)
    out = []
    for i in range(n):
        value = int(entries[i]["me_value"])
        if value == 0:
            continue
        target = int(gdb.Value(value).cast(weakref_ptr)["wr_object"])
        if target and target != none_addr:
            out.append(target)
    return out


types = {}   # type address -> offset of the object in its block
names = {}
todo = [int(gdb.parse_and_eval("(unsigned long)&PyBaseObject_Type"))]
while todo:
    addr = todo.pop()
    if addr in types:
        continue
    t = gdb.Value(addr).cast(type_ptr)
    flags = int(t["tp_flags"])
    offset = 0
    if flags & TPFLAGS_HAVE_GC:
        offset = GC_HEAD + (PRE_HEADER if flags & TPFLAGS_MANAGED_DICT else 0)
    types[addr] = offset
    names[addr] = None
    todo.extend(subclasses(t))

# ------------------------------------------------------------------ the walk
arenas = u64.unpack(read(symbol_address("arenas"), 8))[0]
maxarenas = struct.unpack("<I", read(symbol_address("maxarenas"), 4))[0]
table = read(arenas, maxarenas * ARENA_SIZEOF)
by_type = {} if os.environ.get("GDB_POOL_WALK_BY_TYPE") else None
objects = blocks = n_arenas = n_pools = 0
for a in range(maxarenas):
    base = a * ARENA_SIZEOF
    address = u64.unpack_from(table, base + A_ADDRESS)[0]
    if address == 0:
        continue
    n_arenas += 1
    pool_address = u64.unpack_from(table, base + A_POOL_ADDRESS)[0]
    first = (address + POOL_SIZE - 1) // POOL_SIZE * POOL_SIZE
    if pool_address <= first:
        continue
    data = read(first, pool_address - first)
    for p in range(0, pool_address - first, POOL_SIZE):
        count = struct.unpack_from("<I", data, p + P_COUNT)[0]
        if count == 0:
            continue
        n_pools += 1
        size = (struct.unpack_from("<I", data, p + P_SZIDX)[0] + 1) * ALIGNMENT
        nextoffset = struct.unpack_from("<I", data, p + P_NEXTOFFSET)[0]
        free = set()
        block = u64.unpack_from(data, p + P_FREEBLOCK)[0]
        pool = first + p
        while block and pool <= block < pool + POOL_SIZE and block not in free:
            free.add(block)
            block = u64.unpack_from(data, block - first)[0]
        for off in range(POOL_OVERHEAD, min(nextoffset, POOL_SIZE), size):
            if pool + off in free:
                continue
            blocks += 1
            b = p + off
            for head in (0, GC_HEAD, GC_HEAD + PRE_HEADER):
                if head + 16 > size:
                    break
                tp = u64.unpack_from(data, b + head + OB_TYPE)[0]
                if types.get(tp) == head and i64.unpack_from(data, b + head + OB_REFCNT)[0] > 0:
                    objects += 1
                    if by_type is not None:
                        by_type[tp] = by_type.get(tp, 0) + 1
                    break

result = {
    "objects": objects,
    "blocks": blocks,
    "arenas": n_arenas,
    "pools": n_pools,
    "types": len(types),
    "seconds": round(time.perf_counter() - started, 3),
}
if by_type is not None:
    named = {}
    for tp, n in by_type.items():
        name = gdb.Value(tp).cast(type_ptr)["tp_name"].string()
        named[name] = named.get(name, 0) + n
    result["by_type"] = dict(sorted(named.items(), key=lambda kv: -kv[1]))
print(json.dumps(result))
