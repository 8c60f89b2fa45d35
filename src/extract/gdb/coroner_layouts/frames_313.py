"""Python frames of 3.13: the _PyInterpreterFrame chain as 3.12 changed it, with 3.13's names.

What 3.12 changed from 3.11 (and 3.13 keeps):
- no is_entry flag: each _PyEval_EvalFrameDefault call links a frame of its own C stack into
  the chain (owner FRAME_OWNED_BY_CSTACK, a shim that runs no code). The Python frame just
  inside such a shim is the one that call entered; the shim itself is not shown.
- _frameowner gained FRAME_OWNED_BY_CSTACK (3).
What 3.13 changed from 3.12:
- the frame's code object is f_executable (3.12: f_code);
- the frame keeps the instruction it is running, instr_ptr (3.12: prev_instr, the last one
  run); both give the line of the call a calling frame is in, as PyCode_Addr2Line does;
- the thread state points at its current frame itself (3.12: through tstate->cframe).
Frames312Chain reads the chain and leaves these three to class constants and one method, so
that 3.12 is a subclass that only names f_code and prev_instr (reading tstate->cframe is
Frames311's, inherited).
"""
from coroner_layouts.frames_311 import CODE_UNIT, Frames311
from coroner_layouts.frames_chain import FRAME_ERRORS, FrameStepError
from coroner_mem import u64_at


class Frames312Chain(Frames311):
    # Include/internal/pycore_frame.h (3.12, 3.13): enum _frameowner
    FRAME_OWNED_BY_THREAD = 0
    FRAME_OWNED_BY_GENERATOR = 1
    FRAME_OWNED_BY_FRAME_OBJECT = 2
    FRAME_OWNED_BY_CSTACK = 3
    # The member of _PyInterpreterFrame that holds the code object, and the one that says where
    # the frame is in it: set by a subclass.

    def step(self, frame, raw, frames):
        """As Frames311.step, but the chain holds shims too (owned by the C stack): the Python frame
        before a shim was entered from C."""
        fr = self.fr
        owner = raw[fr["owner"]]
        previous = u64_at(raw, fr["previous"])
        if owner == self.FRAME_OWNED_BY_CSTACK:
            if frames:
                frames[-1]["is_entry"] = True
            return previous
        instr = u64_at(raw, fr[self.INSTR_FIELD])
        try:
            info = self._code(u64_at(raw, fr[self.CODE_FIELD]))
            if owner == self.FRAME_OWNED_BY_GENERATOR or instr >= info["code_start"] + CODE_UNIT * info["firsttraceable"]:
                frames.append(self._frame(frame, raw, info, instr))
            # else: an incomplete frame (not yet at its first RESUME); Python hides it too
        except FRAME_ERRORS as e:
            raise FrameStepError(e, previous, False) from e
        return previous
    def _is_entry(self, raw):
        return False  # step() marks the frame when it reads the shim behind it


class Frames313(Frames312Chain):
    CODE_FIELD = "f_executable"
    INSTR_FIELD = "instr_ptr"
    # FRAME_SUSPENDED, FRAME_SUSPENDED_YIELD_FROM
    GEN_SUSPENDED = (-2, -1)

    def _init_current_frame(self):
        self.current_frame_off = self.ts["current_frame"]

    def current_frame(self, tstate):
        """tstate->current_frame (3.12: tstate->cframe->current_frame, as Frames311 reads it)."""
        return self.mem.u64(tstate + self.current_frame_off)
