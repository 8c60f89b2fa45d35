"""Where the heap of 3.13 is (and what of it 3.12 shares).

What changed from 3.11 (since 3.12):
- obmalloc's state belongs to the interpreter: PyInterpreterState.obmalloc (3.13: a pointer to
  it; the main interpreter's is the static obmalloc_state_main; 3.12: the struct itself), and the
  arena table is its mgmt.arenas / mgmt.maxarenas (no `arenas` static any more);
- the runtime's statically allocated objects (small ints, one-byte bytes, one-character and
  _Py_ID strs, the empty tuple) are _PyRuntime.static_objects, and each interpreter has a few
  of its own (PyInterpreterState.static_objects);
- a static builtin type's tp_subclasses is not a dict but its index + 1 in the interpreter's
  table of static types, whose entry holds the dict (lookup_tp_subclasses);
- the collector's state is as 3.11's (3.13 has no incremental collector: it was reverted before
  3.13.0), and _gc_next != 0 still says an object is tracked.
"""
import gdb

from coroner_layouts.heap import Heap311
from coroner_mem import BadRead, Layout as CStruct, field_path_offset, u64_at

# Include/object.h (3.12+): _Py_TPFLAGS_STATIC_BUILTIN
TPFLAGS_STATIC_BUILTIN = 1 << 1
MAX_STATIC_TYPES = 1024


class Heap313(Heap311):
    # PyInterpreterState members (3.13); 3.12: "obmalloc" is the struct itself, and the static
    # types are "types.builtins" (one array, no separate one for extensions).
    OBMALLOC_POINTER = True
    STATIC_TYPE_TABLES = ("types.builtins.initialized", "types.for_extensions.initialized")
    STATIC_TYPE_STATE = "managed_static_type_state"  # 3.12: static_builtin_state

    def pymalloc(self, warn):
        mem = self.mem
        try:
            interp = self.layout.runtime.main_interpreter()
            at = interp + field_path_offset("PyInterpreterState", "obmalloc")
            state = mem.u64(at) if self.OBMALLOC_POINTER else at
            arenas = mem.u64(state + field_path_offset("struct _obmalloc_state", "mgmt.arenas"))
            maxarenas = mem.u32(state + field_path_offset("struct _obmalloc_state", "mgmt.maxarenas"))
        except (BadRead, KeyError, gdb.error) as e:
            warn("pymalloc: cannot read the interpreter's arena table: %s" % e)
            return None
        return self._pymalloc_record(arenas, maxarenas)

    def static_regions(self, warn):
        out = []
        try:
            start = int(gdb.parse_and_eval("(unsigned long)&_PyRuntime.static_objects"))
            size = int(gdb.parse_and_eval("sizeof(_PyRuntime.static_objects)"))
            out.append({"start": start, "size": size})
        except gdb.error as e:
            warn("census: the runtime's static objects were not found: %s" % e)
            return out
        try:
            off = field_path_offset("PyInterpreterState", "static_objects")
            size = gdb.lookup_type("PyInterpreterState").strip_typedefs()
            size = [f for f in size.fields() if f.name == "static_objects"][0].type.sizeof
            for interp in self.layout.runtime.interpreters():
                out.append({"start": interp + off, "size": size})
        except (BadRead, KeyError, IndexError, gdb.error) as e:
            warn("census: the interpreters' static objects were not found: %s" % e)
        return out

    def _subclasses(self, t, raw, flags):
        """The dict of weakrefs to a type's subclasses, or 0."""
        sub = u64_at(raw, self.objects.tp["tp_subclasses"])
        if not flags & TPFLAGS_STATIC_BUILTIN:
            return sub
        index = sub - 1
        if not 0 <= index < MAX_STATIC_TYPES:
            return 0
        interp = self.layout.runtime.main_interpreter()
        st = self._static_state()
        for table in self._static_tables():
            entry = interp + table + index * st.size
            if self.mem.u64(entry + st["type"]) == t:
                return self.mem.u64(entry + st["tp_subclasses"])
        return 0

    def _static_state(self):
        st = getattr(self, "_st", None)
        if st is None:
            st = self._st = CStruct(self.STATIC_TYPE_STATE)
        return st

    def _static_tables(self):
        tables = getattr(self, "_tables", None)
        if tables is None:
            tables = self._tables = []
            for path in self.STATIC_TYPE_TABLES:
                try:
                    tables.append(field_path_offset("PyInterpreterState", path))
                except KeyError:
                    pass
        return tables
