"""Python frames of 3.11: the _PyInterpreterFrame chain of a thread state.

A thread state's cframe points at the current _PyInterpreterFrame; each frame links to the
previous one, and holds its code object, the last instruction run, and the fast locals
(arguments, locals, cells and free variables, in the order of co_localsplusnames). The
line number comes from the code object's location table (linetable.py), unless the frame is
traced and keeps its own.
"""
import struct

from coroner_layouts import exctable, linetable
from coroner_layouts.frames_chain import FRAME_ERRORS, FrameChain, FrameStepError
from coroner_mem import BadRead, Layout as CStruct, i32_at, u64_at

CODE_UNIT = linetable.CODE_UNIT
PTR = 8
MAX_LOCALSPLUS = 100000


class Frames311(FrameChain):
    EVAL_FRAME_FUNCTIONS = ("_PyEval_EvalFrameDefault",)

    # Include/internal/pycore_code.h: _PyLocals_Kind bits
    CO_FAST_LOCAL = 0x20
    CO_FAST_CELL = 0x40
    CO_FAST_FREE = 0x80
    # Include/cpython/code.h
    CO_VARARGS = 0x04
    CO_VARKEYWORDS = 0x08
    # Include/internal/pycore_frame.h: _frameowner
    FRAME_OWNED_BY_GENERATOR = 1
    # The members of _PyInterpreterFrame with the code object and the place in it.
    CODE_FIELD = "f_code"
    INSTR_FIELD = "prev_instr"
    # Include/internal/pycore_frame.h: the _framestate values of a generator paused at a yield.
    GEN_SUSPENDED = (-1,)

    def __init__(self, layout):
        self.mem = layout.mem
        self.objects = layout.objects
        self.ts = layout.runtime.ts
        self.fr = CStruct("_PyInterpreterFrame")
        self.fo = CStruct("PyFrameObject")
        self.co = CStruct("PyCodeObject")
        self._codes = {}
        self._lines = {}
        self._gen = None  # PyGenObject, looked up when a with block's manager is a generator's
        self._init_current_frame()

    def _init_current_frame(self):
        self.cf = CStruct("_PyCFrame")

    def current_frame(self, tstate):
        """The thread state's innermost _PyInterpreterFrame (0: none): tstate->cframe->current_frame."""
        cframe = self.mem.u64(tstate + self.ts["cframe"])
        return self.mem.u64(cframe + self.cf["current_frame"]) if cframe else 0

    def frame_size(self):
        return self.fr.size

    def step(self, frame, raw, frames):
        fr = self.fr
        prev_instr = u64_at(raw, fr[self.INSTR_FIELD])
        owner = raw[fr["owner"]]
        previous = u64_at(raw, fr["previous"])
        try:
            info = self._code(u64_at(raw, fr[self.CODE_FIELD]))
            if owner == self.FRAME_OWNED_BY_GENERATOR or prev_instr >= info["code_start"] + CODE_UNIT * info["firsttraceable"]:
                frames.append(self._frame(frame, raw, info, prev_instr))
            # else: an incomplete frame (not yet at its first RESUME); Python hides it too
        except FRAME_ERRORS as e:
            raise FrameStepError(e, previous, bool(raw[fr["is_entry"]])) from e
        return previous
    def _frame(self, frame, raw, info, prev_instr, blocks=True):
        """What python_frames gives of one frame; with blocks, the values its with blocks keep."""
        fr = self.fr
        line = 0
        frame_obj = u64_at(raw, fr["frame_obj"])
        if frame_obj:
            try:  # a traced frame keeps its own line number
                line = self.mem.i32(frame_obj + self.fo["f_lineno"])
            except BadRead:
                line = 0
        if not line:
            line = self._line(info, (prev_instr - info["code_start"]) // CODE_UNIT * CODE_UNIT)
        return {
            "function": info["name"],
            "file": info["filename"],
            "line": line,
            "is_entry": self._is_entry(raw),
            "locals": self._locals(frame, info),
            "block_values": self._block_values(frame, info, (prev_instr - info["code_start"]) // CODE_UNIT) if blocks else [],
        }

    def generator_blocks(self, gen):
        """(function name, block values) of a generator paused at a yield (a @contextmanager's,
        inside its own with blocks while its caller's runs), the values as _block_values gives a
        frame's; (None, []) for one not paused."""
        if self._gen is None:
            self._gen = CStruct("PyGenObject")
        state = struct.unpack("<b", self.mem.read(gen + self._gen["gi_frame_state"], 1))[0]
        if state not in self.GEN_SUSPENDED:
            return None, []
        iframe = gen + self._gen["gi_iframe"]
        raw = self.mem.read(iframe, self.fr.size)
        info = self._code(u64_at(raw, self.fr[self.CODE_FIELD]))
        index = (u64_at(raw, self.fr[self.INSTR_FIELD]) - info["code_start"]) // CODE_UNIT
        return info["name"], self._block_values(iframe, info, index)

    def _block_values(self, frame, info, index):
        """The value-stack objects under the innermost try or with block the frame is in (where a
        with block keeps its bound __exit__), outermost first; the stack follows the fast locals."""
        parsed = info["exctable"]
        if parsed is None:
            parsed = info["exctable"] = exctable.entries(self.objects.bytes_value(info["exctable_addr"]) or b"")
        depth = min(exctable.live_depth(parsed, index), info["stacksize"]) if index >= 0 else 0
        if depth <= 0:
            return []
        try:
            return [v for v in self.mem.ptrs(frame + self.fr["localsplus"] + PTR * info["nlocalsplus"], depth) if v]
        except BadRead:
            return []

    def _is_entry(self, raw):
        """Whether the frame was entered from C (3.11: its is_entry flag)."""
        return bool(raw[self.fr["is_entry"]])

    def _locals(self, frame, info):
        out = []
        n = info["nlocalsplus"]
        if not n:
            return out
        try:
            values = self.mem.ptrs(frame + self.fr["localsplus"], n)
        except BadRead:
            return out
        names, kinds, nargs = info["names"], info["kinds"], info["nargs"]
        for i, value in enumerate(values):
            if not value or i >= len(names):
                continue
            k = kinds[i] if i < len(kinds) else self.CO_FAST_LOCAL
            if k & (self.CO_FAST_CELL | self.CO_FAST_FREE):
                value = self.objects.cell_contents(value)
                if not value:
                    continue
            if i < nargs:
                kind = "arg"
            elif k & self.CO_FAST_FREE:
                kind = "free"
            elif k & self.CO_FAST_CELL:
                kind = "cell"
            else:
                kind = "local"
            out.append((names[i], kind, value))
        return out

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
        nargs = i32_at(raw, co["co_argcount"]) + i32_at(raw, co["co_kwonlyargcount"])
        if flags & self.CO_VARARGS:
            nargs += 1
        if flags & self.CO_VARKEYWORDS:
            nargs += 1
        nlocalsplus = i32_at(raw, co["co_nlocalsplus"])
        if not 0 <= nlocalsplus <= MAX_LOCALSPLUS:
            raise BadRead(code, co.size)
        names = []
        names_tuple = u64_at(raw, co["co_localsplusnames"])
        if nlocalsplus and names_tuple:
            for a in objects.tuple_items(names_tuple, nlocalsplus):
                names.append(objects.str_value(a) or "?")
        kinds = objects.bytes_value(u64_at(raw, co["co_localspluskinds"])) if nlocalsplus else b""
        info = {
            "name": objects.str_value(u64_at(raw, co["co_name"])) or "<unknown>",
            "filename": objects.str_value(u64_at(raw, co["co_filename"])) or "<unknown>",
            "firstlineno": i32_at(raw, co["co_firstlineno"]),
            "linetable_addr": u64_at(raw, co["co_linetable"]),
            "linetable": None,
            "code_start": code + co["co_code_adaptive"],
            "firsttraceable": i32_at(raw, co["_co_firsttraceable"]),
            "nlocalsplus": nlocalsplus,
            "names": names,
            "kinds": kinds or b"",
            "nargs": nargs,
            "exctable_addr": u64_at(raw, co["co_exceptiontable"]),
            "exctable": None,
            "stacksize": i32_at(raw, co["co_stacksize"]),
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
        if addrq < 0:
            line = info["firstlineno"]
        else:
            table = info["linetable"]
            if table is None:
                table = info["linetable"] = self.objects.bytes_value(info["linetable_addr"]) or b""
            line = linetable.addr2line(table, info["firstlineno"], addrq)
        self._lines[key] = line
        return line
