"""Line tables before 3.11 (src/extract/gdb/coroner_layouts/linetable_310.py): co_lnotab of 3.6
to 3.9 on tables CPython 3.9.2 made (the lines dis.findlinestarts gave for every code unit), and
the 3.10 co_linetable on tables built by hand from Objects/lnotab_notes.txt of 3.10."""
import unittest

from coroner_layouts import linetable_310 as lt

# Made by python3.9 (Debian 3.9.2): a function with a comprehension, an if/else, a tuple over two
# lines (the line goes back: a negative delta) and a loop; and one with a 300-line gap (a delta
# split over pairs of a zero address delta). `lines` is the line of each code unit, in order.
SAMPLE_39 = {
    "firstlineno": 2,
    "lnotab": bytes.fromhex("00010801080114020403020102ff04020c010a01"),
    "lines": [3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 10, 11, 10, 10, 12, 12, 12, 12,
              12, 12, 13, 13, 13, 13, 13, 14, 14, 14, 14, 14],
}
BIG_39 = {
    "firstlineno": 1,
    "lnotab": bytes.fromhex("0001047f007f002f0401"),
    "lines": [2, 2, 303, 303, 304, 304, 304, 304],
}


class Lnotab(unittest.TestCase):
    def check(self, sample):
        for unit, line in enumerate(sample["lines"]):
            with self.subTest(offset=2 * unit):
                self.assertEqual(lt.lnotab_addr2line(sample["lnotab"], sample["firstlineno"], 2 * unit), line)

    def test_every_offset_of_a_39_function(self):
        self.check(SAMPLE_39)

    def test_a_gap_wider_than_one_delta(self):
        self.check(BIG_39)

    def test_not_started(self):
        # f_lasti is -1 before the first instruction: the function's first line.
        self.assertEqual(lt.lnotab_addr2line(SAMPLE_39["lnotab"], 2, -1), 2)

    def test_empty_table(self):
        self.assertEqual(lt.lnotab_addr2line(b"", 7, 40), 7)

    def test_past_the_end_keeps_the_last_line(self):
        self.assertEqual(lt.lnotab_addr2line(SAMPLE_39["lnotab"], 2, 1000), 14)


class Linetable310(unittest.TestCase):
    # firstlineno 10: [0, 6) line 11, [6, 8) no line, [8, 8) +100 carried, [8, 12) line 111 + 1,
    # [12, 20) line 110 (-2).
    TABLE = bytes([6, 1, 2, 0x80, 0, 100, 4, 1, 8, 0xFE])

    def test_ranges(self):
        want = {0: 11, 2: 11, 4: 11, 6: -1, 8: 112, 10: 112, 12: 110, 18: 110}
        for addr, line in want.items():
            with self.subTest(addr=addr):
                self.assertEqual(lt.linetable_310_addr2line(self.TABLE, 10, addr), line)

    def test_no_line_keeps_the_running_line(self):
        # A range without a line does not change the line the next range adds to.
        table = bytes([2, 3, 2, 0x80, 2, 1])
        self.assertEqual(lt.linetable_310_addr2line(table, 1, 4), 5)

    def test_not_started_and_past_the_end(self):
        self.assertEqual(lt.linetable_310_addr2line(self.TABLE, 10, -2), 10)
        self.assertEqual(lt.linetable_310_addr2line(self.TABLE, 10, 20), -1)


if __name__ == "__main__":
    unittest.main()
