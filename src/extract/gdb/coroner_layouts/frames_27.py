"""Python frames of 2.7: the PyFrameObject chain of a thread state (tstate->frame, f_back).

Each frame is run by a PyEval_EvalFrameEx call of its own, so every frame is an entry frame.
The line is PyFrame_GetLineNumber's: f_lineno when the frame is traced, else the line of f_lasti
in the code object's co_lnotab (linetable_310.py). The fast locals are f_localsplus: co_nlocals
variables named by co_varnames (the arguments first), then the cells (co_cellvars) and free
variables (co_freevars), both held in cell objects.
"""
from coroner_layouts import linetable_310
from coroner_layouts.frames_chain import FrameObjectChain
from coroner_mem import BadRead, Layout as CStruct, i32_at, u64_at

MAX_LOCALS = 100000


class Frames27(FrameObjectChain):
    EVAL_FRAME_FUNCTIONS = ("PyEval_EvalFrameEx",)
    # Include/code.h of 2.7
    CO_VARARGS = 0x04
    CO_VARKEYWORDS = 0x08

    def __init__(self, layout):
        self.mem = layout.mem
        self.objects = layout.objects
        self.ts = layout.runtime.ts
        self.fo = CStruct("PyFrameObject")
        self.co = CStruct("PyCodeObject")
        self._codes = {}

    def _frame(self, frame, raw, info):
        fo = self.fo
        if u64_at(raw, fo["f_trace"]):
            line = i32_at(raw, fo["f_lineno"])
        else:
            table = info["lnotab"]
            if table is None:
                table = info["lnotab"] = self.objects.bytes_value(info["lnotab_addr"]) or b""
            line = linetable_310.lnotab_addr2line(table, info["firstlineno"], i32_at(raw, fo["f_lasti"]), signed_lines=False)
        return {
            "function": info["name"],
            "file": info["filename"],
            "line": line,
            "is_entry": True,
            "locals": self._locals(frame, info),
        }

    def _locals(self, frame, info):
        out = []
        names = info["names"]
        if not names:
            return out
        try:
            values = self.mem.ptrs(frame + self.fo["f_localsplus"], len(names))
        except BadRead:
            return out
        nlocals, ncells, nargs = info["nlocals"], info["ncells"], info["nargs"]
        for i, value in enumerate(values):
            if not value:
                continue
            if i >= nlocals:
                value = self.objects.cell_contents(value)
                if not value:
                    continue
                kind = "cell" if i < nlocals + ncells else "free"
            else:
                kind = "arg" if i < nargs else "local"
            out.append((names[i], kind, value))
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
        nargs = i32_at(raw, co["co_argcount"])
        if flags & self.CO_VARARGS:
            nargs += 1
        if flags & self.CO_VARKEYWORDS:
            nargs += 1
        nlocals = i32_at(raw, co["co_nlocals"])
        if not 0 <= nlocals <= MAX_LOCALS:
            raise BadRead(code, co.size)
        names = self._names(u64_at(raw, co["co_varnames"]), nlocals)
        names += ["?"] * (nlocals - len(names))
        cells = self._names(u64_at(raw, co["co_cellvars"]), MAX_LOCALS)
        frees = self._names(u64_at(raw, co["co_freevars"]), MAX_LOCALS)
        info = {
            "name": objects.str_value(u64_at(raw, co["co_name"])) or "<unknown>",
            "filename": objects.text_value(u64_at(raw, co["co_filename"])) or "<unknown>",
            "firstlineno": i32_at(raw, co["co_firstlineno"]),
            "lnotab_addr": u64_at(raw, co["co_lnotab"]),
            "lnotab": None,
            "names": names + cells + frees,
            "nlocals": nlocals,
            "ncells": len(cells),
            "nargs": nargs,
        }
        self._codes[code] = info
        return info
