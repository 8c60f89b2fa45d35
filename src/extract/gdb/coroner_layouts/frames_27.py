"""Python frames of 2.7: the PyFrameObject chain of a thread state (tstate->frame, f_back).

Each frame is run by a PyEval_EvalFrameEx call of its own, so every frame is an entry frame.
The line is PyFrame_GetLineNumber's: f_lineno when the frame is traced, else the line of f_lasti
in the code object's co_lnotab (linetable_310.py). The fast locals are f_localsplus: co_nlocals
variables named by co_varnames (the arguments first), then the cells (co_cellvars) and free
variables (co_freevars), both held in cell objects.
"""
from coroner_layouts import linetable_310
from coroner_layouts.frames_310 import Frames39


class Frames27(Frames39):
    """What 2.7 does otherwise than 3.9: its eval function's name, no keyword-only arguments, and
    unsigned line deltas in co_lnotab."""
    EVAL_FRAME_FUNCTIONS = ("PyEval_EvalFrameEx",)
    KWONLY_FIELD = None

    @staticmethod
    def addr2line(table, firstlineno, addrq):
        return linetable_310.lnotab_addr2line(table, firstlineno, addrq, signed_lines=False)
