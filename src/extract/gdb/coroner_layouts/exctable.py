"""The exception table of a 3.11+ code object (co_exceptiontable, Objects/exception_handling_notes.txt):
how deep the value stack is, at least, at an instruction. No gdb here, so that the decoding can be
tested on this interpreter's own code objects (test/unit/python/test_exctable.py).

Every `with` block (and try) of 3.11+ is a range of instructions whose handler unwinds the value
stack to a depth the table records; the block's bound `__exit__` sits just below that depth, and
everything under it stays on the stack for as long as the block runs. So the entry that covers
the instruction a frame is at says which value-stack slots are live there, also for the frame
that is running (its stack pointer is a register of the eval loop, not in the frame: 3.11's
stacktop is -1 then).
"""


def _read_varint(table, i):
    """(value, next index) of the varint at table[i]: 6 bits a byte, the most significant first,
    bit 6 set on every byte but the last (unlike the location table's, least significant first)."""
    b = table[i]
    i += 1
    val = b & 63
    while b & 64:
        b = table[i]
        i += 1
        val = (val << 6) | (b & 63)
    return val, i


def entries(table):
    """[(start, end, target, depth, lasti)] in code units, as dis._parse_exception_table gives them.
    An entry starts at a byte with bit 7 set; a table cut short ends the list."""
    out = []
    i = 0
    n = len(table)
    try:
        while i < n:
            if not table[i] & 128:
                i += 1
                continue
            start, i = _read_varint(table, i)
            length, i = _read_varint(table, i)
            target, i = _read_varint(table, i)
            dl, i = _read_varint(table, i)
            out.append((start, start + length, target, dl >> 1, bool(dl & 1)))
    except IndexError:
        pass
    return out


def live_depth(parsed, index):
    """Value-stack slots surely live at code unit `index`: the depth of the entry that covers it
    (0 outside every try and with block)."""
    for start, end, _target, depth, _lasti in parsed:
        if start <= index < end:
            return depth
    return 0
