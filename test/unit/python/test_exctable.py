"""The 3.11+ exception table decoding (src/extract/gdb/coroner_layouts/exctable.py), against dis's
own reading of this interpreter's code objects, and the depth under with blocks."""
import dis
import sys
import threading
import unittest

from coroner_layouts import exctable


def nested_with(a, b):
    with a:
        x = 1
        with b:
            x = 2
    return x


def with_in_try(a):
    try:
        for _ in range(3):
            with a:
                pass
    except ValueError:
        pass


@unittest.skipIf(sys.version_info < (3, 11), "exception tables are 3.11+")
class ExceptionTable(unittest.TestCase):
    def test_entries_as_dis_reads_them(self):
        for code in (nested_with.__code__, with_in_try.__code__, threading.Condition.wait.__code__,
                     threading.Thread._bootstrap_inner.__code__, unittest.TestCase.run.__code__):
            want = [(e.start // 2, e.end // 2, e.target // 2, e.depth, e.lasti) for e in dis._parse_exception_table(code)]
            self.assertEqual(exctable.entries(code.co_exceptiontable), want, code.co_name)

    def _withs(self, code):
        """Code-unit indexes of each BEFORE_WITH (entering a with) and of the instruction after it
        (the first of its body, as BEFORE_WITH has no inline cache)."""
        return [i.offset // 2 for i in dis.get_instructions(code) if i.opname == "BEFORE_WITH"]

    def test_depth_under_with_blocks(self):
        code = nested_with.__code__
        parsed = exctable.entries(code.co_exceptiontable)
        first, second = self._withs(code)
        # Entering the first with nothing is held yet; in its body, its __exit__ is; entering the
        # second, still only the first's; in the second's body, both.
        self.assertEqual([exctable.live_depth(parsed, i) for i in (first, first + 1, second, second + 1)], [0, 1, 1, 2])
        # After both blocks: nothing.
        last = max(i.offset // 2 for i in dis.get_instructions(code))
        self.assertEqual(exctable.live_depth(parsed, last), 0)

    def test_with_in_a_for_loop_under_a_try(self):
        code = with_in_try.__code__
        parsed = exctable.entries(code.co_exceptiontable)
        (enter,) = self._withs(code)
        # Entering the with, only the try's depth is sure (0: the range iterator came after the
        # try began); in the with's body, the iterator and the __exit__ above it.
        self.assertEqual([exctable.live_depth(parsed, i) for i in (enter, enter + 1)], [0, 2])

    def test_cut_table(self):
        table = nested_with.__code__.co_exceptiontable
        self.assertLessEqual(len(exctable.entries(table[:-1])), len(exctable.entries(table)))
        self.assertEqual(exctable.entries(b""), [])


if __name__ == "__main__":
    unittest.main()
