"""Python frames of 3.6 to 3.10 (read on 3.9): the PyFrameObject chain of a thread state.

tstate->frame is the innermost frame object; each links to its caller through f_back and holds
its code object, f_lasti (the last instruction: a byte offset up to 3.9, an index of 2-byte code
units in 3.10), the line when traced, and f_localsplus: co_nlocals locals (the arguments
first), then one cell per co_cellvars name, then one per co_freevars name.

Every frame object is run by its own call of the evaluation function, so each is an entry frame
for the merge with the native stack (coroner_gdb.assign_native_indexes).

Frames39 reads co_lnotab (3.6 to 3.9) and takes f_lineno only when the frame is traced (f_trace
set), as PyFrame_GetLineNumber does; Frames310 reads the 3.10 co_linetable, counts f_lasti in code
units, and takes f_lineno whenever it is not 0.
"""
from coroner_layouts import linetable_310
from coroner_layouts.frames_chain import FrameObjectChain
from coroner_mem import BadRead, Layout as CStruct, i32_at, u64_at

MAX_LOCALSPLUS = 100000
MAX_BLOCKS = 20  # Include/code.h: CO_MAXBLOCKS, the size of f_blockstack
PTR = 8


class Frames39(FrameObjectChain):
    EVAL_FRAME_FUNCTIONS = ("_PyEval_EvalFrameDefault",)

    # Include/code.h
    CO_VARARGS = 0x04
    CO_VARKEYWORDS = 0x08
    # Bytes of f_lasti's unit: 1 up to 3.9 (a byte offset), 2 in 3.10 (code units).
    LASTI_UNIT = 1
    # Keyword-only arguments come after the positional ones (3.x; None before).
    KWONLY_FIELD = "co_kwonlyargcount"

    def __init__(self, layout):
        self.mem = layout.mem
        self.objects = layout.objects
        self.ts = layout.runtime.ts
        self.fo = CStruct("PyFrameObject")
        self.co = CStruct("PyCodeObject")
        self.tb = CStruct("PyTryBlock")
        self._gen = None  # PyGenObject, looked up when a with block's manager is a generator's
        self.line_table_field = "co_lnotab"
        self._codes = {}
        self._lines = {}

    def _frame(self, frame, raw, info):
        fo = self.fo
        line = self._traced_line(raw)
        if not line:
            line = self._line(info, i32_at(raw, fo["f_lasti"]) * self.LASTI_UNIT)
        return {
            "function": info["name"],
            "file": info["filename"],
            "line": line,
            "is_entry": True,
            "locals": self._locals(frame, info),
            "block_values": self._block_values(raw),
        }

    def generator_blocks(self, gen):
        """(function name, block values) of a generator's frame (a @contextmanager's paused at its
        yield); a finished generator has no frame (gi_frame is NULL): (None, [])."""
        if self._gen is None:
            self._gen = CStruct("PyGenObject")
        frame = self.mem.u64(gen + self._gen["gi_frame"])
        if not frame:
            return None, []
        raw = self.mem.read(frame, self.frame_size())
        return self._code(u64_at(raw, self.fo["f_code"]))["name"], self._block_values(raw)

    def _block_values(self, raw):
        """The value-stack object just under each block on the frame's block stack, outermost
        first: SETUP_WITH sets its __exit__ there, then sets up the block above it (only once
        __enter__ returned: a with statement still acquiring holds nothing)."""
        fo, tb = self.fo, self.tb
        n = i32_at(raw, fo["f_iblock"])
        base = u64_at(raw, fo["f_valuestack"])
        if not base or not 0 < n <= MAX_BLOCKS:
            return []
        levels = []
        for i in range(n):
            block = fo["f_blockstack"] + i * tb.size
            level = i32_at(raw, block + tb["b_level"])
            if 0 < level <= MAX_LOCALSPLUS and level not in levels:
                levels.append(level)
        out = []
        for level in levels:
            try:
                value = self.mem.u64(base + PTR * (level - 1))
            except BadRead:
                continue
            if value:
                out.append(value)
        return out

    def _traced_line(self, raw):
        """f_lineno when it holds the line (a traced frame), else 0."""
        if u64_at(raw, self.fo["f_trace"]):
            return i32_at(raw, self.fo["f_lineno"])
        return 0

    def _locals(self, frame, info):
        out = []
        names = info["names"]
        n = len(names)
        if not n:
            return out
        try:
            values = self.mem.ptrs(frame + self.fo["f_localsplus"], n)
        except BadRead:
            return out
        nlocals, ncells, nargs = info["nlocals"], info["ncells"], info["nargs"]
        arg_names = set(names[:nargs])
        for i, value in enumerate(values):
            if not value:
                continue
            name = names[i]
            if i < nlocals:
                kind = "arg" if i < nargs else "local"
            else:
                value = self.objects.cell_contents(value)
                if not value:
                    continue
                if i < nlocals + ncells:
                    # An argument that a nested function uses lives in a cell (co_cell2arg); its
                    # own slot is then empty.
                    kind = "arg" if name in arg_names else "cell"
                else:
                    kind = "free"
            out.append((name, kind, value))
        return out

    def _names(self, tuple_addr, limit):
        objects = self.objects
        if not tuple_addr:
            return []
        return [objects.str_value(a) or "?" for a in objects.tuple_items(tuple_addr, limit)]

    def _code(self, code):
        info = self._codes.get(code)
        if info is not None:
            return info
        co = self.co
        objects = self.objects
        raw = self.mem.read(code, co.size)
        if objects.kind_of_type(u64_at(raw, objects.ob["ob_type"])) != "code":
            raise ValueError("0x%x is not a code object" % code)
        flags = i32_at(raw, co["co_flags"])
        nargs = i32_at(raw, co["co_argcount"]) + (i32_at(raw, co[self.KWONLY_FIELD]) if self.KWONLY_FIELD else 0)
        if flags & self.CO_VARARGS:
            nargs += 1
        if flags & self.CO_VARKEYWORDS:
            nargs += 1
        nlocals = i32_at(raw, co["co_nlocals"])
        if not 0 <= nlocals <= MAX_LOCALSPLUS:
            raise BadRead(code, co.size)
        varnames = self._names(u64_at(raw, co["co_varnames"]), nlocals)
        varnames += ["?"] * (nlocals - len(varnames))
        cellvars = self._names(u64_at(raw, co["co_cellvars"]), MAX_LOCALSPLUS)
        freevars = self._names(u64_at(raw, co["co_freevars"]), MAX_LOCALSPLUS)
        info = {
            "name": objects.str_value(u64_at(raw, co["co_name"])) or "<unknown>",
            "filename": objects.text_value(u64_at(raw, co["co_filename"])) or "<unknown>",
            "firstlineno": i32_at(raw, co["co_firstlineno"]),
            "table_addr": u64_at(raw, co[self.line_table_field]),
            "table": None,
            "nlocals": nlocals,
            "ncells": len(cellvars),
            "names": varnames + cellvars + freevars,
            "nargs": min(nargs, nlocals),
            "addr": code,
        }
        self._codes[code] = info
        return info

    def _line(self, info, addrq):
        """PyCode_Addr2Line(code, addrq); the table is read once a code object."""
        key = (info["addr"], addrq)
        line = self._lines.get(key)
        if line is not None:
            return line
        table = info["table"]
        if table is None:
            table = info["table"] = self.objects.bytes_value(info["table_addr"]) or b""
        line = self.addr2line(table, info["firstlineno"], addrq)
        self._lines[key] = line
        return line

    @staticmethod
    def addr2line(table, firstlineno, addrq):
        return linetable_310.lnotab_addr2line(table, firstlineno, addrq)


class Frames310(Frames39):
    """3.10: f_lasti counts code units, co_linetable replaces co_lnotab, f_lineno is the line
    whenever it is set. Checked on a pyenv 3.10.13 core."""
    LASTI_UNIT = 2

    def __init__(self, layout):
        Frames39.__init__(self, layout)
        self.line_table_field = "co_linetable"

    def _traced_line(self, raw):
        return i32_at(raw, self.fo["f_lineno"])

    @staticmethod
    def addr2line(table, firstlineno, addrq):
        return linetable_310.linetable_310_addr2line(table, firstlineno, addrq)
