"""Python frames of 3.12: the chain as Frames312Chain reads it (shims of the C stack between
entries), with 3.12's names: the code object is f_code and the place prev_instr (the last
instruction run, as 3.11); the thread state reaches its frame through tstate->cframe, as
Frames311 reads it."""
from coroner_layouts.frames_313 import Frames312Chain


class Frames312(Frames312Chain):
    CODE_FIELD = "f_code"
    INSTR_FIELD = "prev_instr"
