"""Line numbers of bytecode offsets from a 2.x code object's co_lnotab. No gdb here, so that the
decoding can be tested on hand-built tables (test/unit/python/test_lnotab.py).

co_lnotab (Objects/lnotab_notes.txt of 2.7) is a string of byte pairs (bytecode offset increment,
line number increment), both unsigned: a jump of more than 255 in either is split over several
pairs, (255, 0) or (0, 255), before the pair that finishes it.
"""


def addr2line(lnotab, firstlineno, addrq):
    """PyCode_Addr2Line of 2.7: the line of the instruction at byte offset addrq (a frame's
    f_lasti). The pairs are added up until the offsets pass addrq."""
    line = firstlineno
    addr = 0
    for i in range(0, len(lnotab) - 1, 2):
        addr += lnotab[i]
        if addr > addrq:
            break
        line += lnotab[i + 1]
    return line
