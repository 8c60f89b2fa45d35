"""Line numbers of bytecode offsets from a code object's location table (co_linetable in the
3.11+ format of Objects/locations.md). No gdb here, so that the decoding can be tested on
hand-built tables (test/unit/python/test_linetable.py).
"""

# Include/internal/pycore_code.h: _PyCodeLocationInfoKind, the code in bits 3-6 of an entry's
# first byte. 0-9 are the short forms (same line, one column byte).
LOC_ONE_LINE0 = 10  # 10, 11, 12: one line, the line delta is code - 10
LOC_NO_COLUMNS = 13
LOC_LONG = 14
LOC_NONE = 15

CODE_UNIT = 2  # bytes of one _Py_CODEUNIT: an entry's length is counted in code units


def read_varint(table, i):
    """(value, next index) of the unsigned varint at table[i]: 6 bits a byte, low bits first,
    bit 6 set on every byte but the last."""
    b = table[i]
    i += 1
    val = b & 63
    shift = 0
    while b & 64:
        b = table[i]
        i += 1
        shift += 6
        val |= (b & 63) << shift
    return val, i


def read_signed_varint(table, i):
    """(value, next index) of a signed varint: the sign is the low bit of the unsigned value."""
    uval, i = read_varint(table, i)
    return (-(uval >> 1) if uval & 1 else uval >> 1), i


def addr2line(table, firstlineno, addrq):
    """Line of the code unit at byte offset addrq, or -1 when it has none, as 3.11's
    PyCode_Addr2Line: walk the entries, keeping the running line number. An entry starts at a
    byte with bit 7 set; its line delta is in the entry's first varint for the long forms."""
    computed = firstlineno
    end = 0
    i = 0
    n = len(table)
    while i < n:
        first = table[i]
        code = (first >> 3) & 15
        length = ((first & 7) + 1) * CODE_UNIT
        if code in (LOC_NO_COLUMNS, LOC_LONG):
            delta = read_signed_varint(table, i + 1)[0]
        elif LOC_ONE_LINE0 <= code < LOC_NO_COLUMNS:
            delta = code - LOC_ONE_LINE0
        else:  # the short forms and LOC_NONE keep the line
            delta = 0
        computed += delta
        start = end
        end += length
        if start <= addrq < end:
            return -1 if code == LOC_NONE else computed
        i += 1
        while i < n and not table[i] & 128:
            i += 1
    return -1
