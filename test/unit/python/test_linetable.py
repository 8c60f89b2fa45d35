"""The 3.11+ location table decoding (src/extract/gdb/coroner_layouts/linetable.py), on tables
built by hand and on the tables of this interpreter's own code objects."""
import dis
import sys
import unittest

from coroner_layouts import linetable


def entry(code, units, *extra):
    """One location entry: bit 7, the kind in bits 3-6, the length in code units - 1 below."""
    return bytes([0x80 | (code << 3) | (units - 1), *extra])


class Varints(unittest.TestCase):
    def test_unsigned(self):
        self.assertEqual(linetable.read_varint(bytes([5]), 0), (5, 1))
        self.assertEqual(linetable.read_varint(bytes([0x48, 0x03]), 0), (200, 2))  # 8 + 3 << 6
        self.assertEqual(linetable.read_varint(bytes([0xFF, 0x7F, 0x7F, 0x01]), 1), ((63 | 63 << 6) + (1 << 12), 4))

    def test_signed(self):
        self.assertEqual(linetable.read_signed_varint(bytes([0x0B]), 0), (-5, 1))
        self.assertEqual(linetable.read_signed_varint(bytes([0x02]), 0), (1, 1))
        self.assertEqual(linetable.read_signed_varint(bytes([0x00]), 0), (0, 1))
        self.assertEqual(linetable.read_signed_varint(bytes([0x48, 0x03]), 0), (100, 2))


# firstlineno 10; byte offsets of code units -> line
TABLE = b"".join([
    entry(linetable.LOC_NO_COLUMNS, 1, 0x02),          # [0, 2)   +1 -> 11
    entry(linetable.LOC_ONE_LINE0, 2, 5, 9),           # [2, 6)   +0 -> 11
    entry(linetable.LOC_ONE_LINE0 + 2, 1, 0, 4),       # [6, 8)   +2 -> 13
    entry(linetable.LOC_NONE, 1),                      # [8, 10)  no line
    entry(linetable.LOC_LONG, 3, 0x0B, 0x00, 1, 3),    # [10, 16) -5 -> 8
    entry(3, 1, 0x12),                                 # [16, 18) short form: same line, 8
    entry(linetable.LOC_NO_COLUMNS, 1, 0x48, 0x03),    # [18, 20) +100 -> 108
    entry(linetable.LOC_NO_COLUMNS, 8, 0x03),          # [20, 36) -1 -> 107
])
WANT = {0: 11, 2: 11, 4: 11, 6: 13, 8: -1, 10: 8, 12: 8, 14: 8, 16: 8, 18: 108, 20: 107, 34: 107, 36: -1, 100: -1}


class HandBuilt(unittest.TestCase):
    def test_each_kind_of_entry(self):
        for addrq, line in WANT.items():
            self.assertEqual(linetable.addr2line(TABLE, 10, addrq), line, "offset %d" % addrq)

    def test_odd_offset_is_inside_its_unit(self):
        self.assertEqual(linetable.addr2line(TABLE, 10, 7), 13)

    def test_empty_table(self):
        self.assertEqual(linetable.addr2line(b"", 10, 0), -1)

    def test_long_entry_with_multibyte_fields(self):
        # a LONG entry whose column varints take two bytes each must not be taken for two entries
        table = entry(linetable.LOC_LONG, 1, 0x04, 0x00, 0x41, 0x01, 0x41, 0x02) + entry(linetable.LOC_NO_COLUMNS, 1, 0x02)
        self.assertEqual(linetable.addr2line(table, 1, 0), 3)
        self.assertEqual(linetable.addr2line(table, 1, 2), 4)


def _sample(a, b):
    total = 0
    for i in range(a):
        if i % 3 == 0:
            total += i * b

        elif i % 3 == 1:
            total -= (
                b
                + i
            )
    try:
        total //= a
    except ZeroDivisionError:
        total = -1
    return [x for x in range(total) if x % 2] or total


class AgainstThisInterpreter(unittest.TestCase):
    """co_lines() of the running interpreter decodes the same table: every offset must agree."""

    @unittest.skipUnless(sys.version_info >= (3, 11), "the location table format is 3.11+")
    def test_code_objects(self):
        codes = [_sample.__code__, dis.dis.__code__, unittest.TestCase.assertEqual.__code__, linetable.addr2line.__code__]
        checked = 0
        while codes:
            co = codes.pop()
            codes.extend(c for c in co.co_consts if hasattr(c, "co_lines"))
            for start, end, line in co.co_lines():
                for addrq in range(start, end, 2):
                    want = -1 if line is None else line
                    self.assertEqual(linetable.addr2line(co.co_linetable, co.co_firstlineno, addrq), want,
                                     "%s offset %d" % (co.co_name, addrq))
                    checked += 1
        self.assertGreater(checked, 100)


if __name__ == "__main__":
    unittest.main()
