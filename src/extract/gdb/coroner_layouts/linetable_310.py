"""Line numbers of bytecode offsets before 3.11: co_lnotab (2.7 to 3.9) and the 3.10 co_linetable.
No gdb here, so that the decoding can be tested on hand-built tables and on tables an interpreter
of those versions made (test/unit/python/test_linetable_310.py, test_lnotab.py).

Both tables are pairs of bytes, an unsigned bytecode delta then a line delta (unsigned in 2.x,
signed from 3.6 on); they differ in which comes first in effect and in what a range without a
line looks like. A jump of more than one byte holds is split over several pairs.
"""


def _signed(b):
    return b - 256 if b > 127 else b


def lnotab_addr2line(table, firstlineno, addrq, signed_lines=True):
    """PyCode_Addr2Line of 2.7 and 3.6 to 3.9 (Objects/codeobject.c): the line of the instruction
    at byte offset addrq. Each pair (address delta, line delta) says that the code from the running
    address on is at the running line plus the delta; the walk stops at the first pair whose
    address is past addrq. A line delta is signed from 3.6 on (Objects/lnotab_notes.txt)."""
    line = firstlineno
    addr = 0
    for i in range(0, len(table) - 1, 2):
        addr += table[i]
        if addr > addrq:
            break
        line += _signed(table[i + 1]) if signed_lines else table[i + 1]
    return line


# Objects/lnotab_notes.txt of 3.10: a line delta of -128 says the range has no line.
NO_LINE_310 = -128


def linetable_310_addr2line(table, firstlineno, addrq):
    """PyCode_Addr2Line of 3.10: the line of the code unit at byte offset addrq (f_lasti * 2),
    -1 when its range has none; firstlineno for a frame not started (addrq < 0). Each pair
    (length in bytes, line delta) is one range that follows the previous one; empty ranges
    only carry a line delta too large for one byte."""
    if addrq < 0:
        return firstlineno
    computed = firstlineno
    end = 0
    for i in range(0, len(table) - 1, 2):
        start = end
        end += table[i]
        delta = _signed(table[i + 1])
        if delta == NO_LINE_310:
            line = -1
        else:
            computed += delta
            line = computed
        if start <= addrq < end:
            return line
    return -1
