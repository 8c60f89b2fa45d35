"""Where the heap of 3.12 is: as 3.13 (heap_313.py), but the interpreter's obmalloc state is
the struct itself (not a pointer to it), and its static builtin types are one table,
types.builtins, of static_builtin_state entries."""
from coroner_layouts.heap_313 import Heap313


class Heap312(Heap313):
    OBMALLOC_POINTER = False
    STATIC_TYPE_TABLES = ("types.builtins",)
    STATIC_TYPE_STATE = "static_builtin_state"
