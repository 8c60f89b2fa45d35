"""The 2.x co_lnotab decoding (lnotab_addr2line with unsigned line deltas, in
src/extract/gdb/coroner_layouts/linetable_310.py), on tables built by hand as 2.7's compiler
writes them (Python/compile.c assemble_lnotab)."""
import unittest

from coroner_layouts import linetable_310


def addr2line(t, firstlineno, addrq):
    return linetable_310.lnotab_addr2line(t, firstlineno, addrq, signed_lines=False)


def table(*pairs):
    return bytes(b for pair in pairs for b in pair)


class Addr2Line(unittest.TestCase):
    def test_empty_table_is_the_first_line(self):
        self.assertEqual(addr2line(b"", 7, 0), 7)
        self.assertEqual(addr2line(b"", 7, 100), 7)

    def test_pairs(self):
        # line 10: offsets 0-5, line 11: 6-13, line 13: 14 on
        t = table((6, 1), (8, 2))
        self.assertEqual([addr2line(t, 10, a) for a in (0, 5, 6, 13, 14, 200)], [10, 10, 11, 11, 13, 13])

    def test_long_jumps_are_split(self):
        # an offset jump of 300 (255 + 45) to a line 2 on, a line jump of 255 with no code at
        # offset 300, then one of 45 at 303
        t = table((255, 0), (45, 2), (0, 255), (3, 45))
        self.assertEqual(addr2line(t, 1, 299), 1)
        self.assertEqual(addr2line(t, 1, 300), 258)
        self.assertEqual(addr2line(t, 1, 302), 258)
        self.assertEqual(addr2line(t, 1, 303), 303)

    def test_several_lines_at_one_offset(self):
        # a line with no code of its own (a zero offset increment): the last line at that offset counts
        t = table((0, 1), (0, 1), (4, 1))
        self.assertEqual(addr2line(t, 5, 0), 7)
        self.assertEqual(addr2line(t, 5, 4), 8)

    def test_odd_length_ignores_the_last_byte(self):
        self.assertEqual(addr2line(b"\x02\x01\x05", 1, 10), 2)

    def test_a_frame_not_started_yet(self):
        # f_lasti is -1 before the first instruction: the first line
        self.assertEqual(addr2line(table((0, 1), (3, 1)), 20, -1), 20)


if __name__ == "__main__":
    unittest.main()
