"""Version detection's pure parts (src/extract/gdb/coroner_layouts/versions.py), and the
registry's promise that these modules need no gdb."""
import importlib
import importlib.util
import sys
import unittest

from coroner_layouts import versions


class VersionText(unittest.TestCase):
    def test_known_hexversions(self):
        cases = {
            0x030B02F0: "3.11.2",
            0x030B00B3: "3.11.0b3",
            0x030C00C1: "3.12.0rc1",
            0x030D00A4: "3.13.0a4",
            0x020712F0: "2.7.18",
            0x030A0CF0: "3.10.12",
        }
        for value, text in cases.items():
            self.assertEqual(versions.version_text(value), text, hex(value))

    def test_major_minor(self):
        self.assertEqual(versions.major_minor(0x030B02F0), (3, 11))
        self.assertEqual(versions.major_minor(0x020712F0), (2, 7))
        self.assertEqual(versions.make_hexversion(3, 11, 2), 0x030B02F0)
        self.assertEqual(versions.make_hexversion(3, 12, 0, 0xC, 1), 0x030C00C1)

    def test_this_interpreter(self):
        self.assertEqual(versions.version_text(sys.hexversion).split("+")[0],
                         sys.version.split()[0].rstrip("+"))


class Plausible(unittest.TestCase):
    def test_real_versions(self):
        for value in (0x030B02F0, 0x030C00C1, 0x020712F0, sys.hexversion):
            self.assertTrue(versions.plausible_hexversion(value), hex(value))

    def test_garbage(self):
        # what a layout guessed wrong may read instead of sys.hexversion
        for value in (0, 1, -0x030B02F0, 0x04000000, 0x010000F0, 0x030B02F1, 0x030B02E0,
                      0x1030B02F0, 0x7F5A3C001230, True, "3.11", None, 3.11):
            self.assertFalse(versions.plausible_hexversion(value), repr(value))


class FromText(unittest.TestCase):
    def test_sys_version_texts(self):
        cases = {
            "3.11.2 (main, Mar 13 2023, 12:18:29) [GCC 12.2.0]": 0x030B02F0,
            "3.12.0rc1+ (heads/3.12:0c4f3d0, Aug 30 2023) [Clang 15]": 0x030C00C1,
            "3.13.0a4": 0x030D00A4,
            "3.11.0b3": 0x030B00B3,
            "2.7.18 (default, Jul  1 2022, 10:30:50) \n[GCC 11.2.0]": 0x020712F0,
            "3.10": 0x030A00F0,
            "  3.9.18 ": 0x030912F0,
        }
        for text, value in cases.items():
            self.assertEqual(versions.hexversion_from_text(text), value, text)

    def test_not_versions(self):
        for text in ("", "hello", "python3.11", "3", "3.11.2.5", "11.2.3", "3.11.300", "3.11.0a16", None, b"3.11.2"):
            self.assertIsNone(versions.hexversion_from_text(text), repr(text))

    def test_this_interpreter(self):
        self.assertEqual(versions.hexversion_from_text(sys.version), sys.hexversion)


class DebugOffsets(unittest.TestCase):
    def test_cookie_then_version(self):
        head = b"xdebugpy" + (0x030D01F0).to_bytes(8, "little")
        self.assertEqual(versions.hexversion_from_debug_offsets(head), 0x030D01F0)
        self.assertEqual(versions.hexversion_from_debug_offsets(bytearray(head + b"\0" * 8)), 0x030D01F0)

    def test_no_cookie(self):
        # 3.11's _PyRuntime starts with ints, not the cookie
        self.assertIsNone(versions.hexversion_from_debug_offsets(b"\x01\0\0\0\0\0\0\0" + (0x030B02F0).to_bytes(8, "little")))
        self.assertIsNone(versions.hexversion_from_debug_offsets(b"xdebugpy"))
        self.assertIsNone(versions.hexversion_from_debug_offsets(b""))

    def test_cookie_with_garbage_version(self):
        self.assertIsNone(versions.hexversion_from_debug_offsets(b"xdebugpy" + b"\xff" * 8))


class FileNames(unittest.TestCase):
    def test_python_files(self):
        cases = {
            "/usr/bin/python3.11": (3, 11),
            "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0": (3, 11),
            "/opt/py/bin/python3.13t": (3, 13),
            "python3.11d": (3, 11),
            "/usr/bin/python2.7": (2, 7),
            "/usr/local/lib/libpython3.9.so": (3, 9),
            "python3.10-dbg": (3, 10),
        }
        for path, want in cases.items():
            self.assertEqual(versions.version_from_file_name(path), want, path)

    def test_other_files(self):
        for path in ("/usr/bin/python3", "/usr/bin/python", "/usr/bin/ipython3.11", "/bin/sleep", "python3.110",
                     "/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so", "", None):
            self.assertIsNone(versions.version_from_file_name(path), repr(path))

    def test_first_that_says(self):
        names = ["/bin/sleep", "/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/libpython3.12.so.1.0", "/usr/bin/python3.11"]
        self.assertEqual(versions.version_from_file_names(names), (3, 12))
        self.assertIsNone(versions.version_from_file_names(["/bin/sleep"]))


class OtherInterpreters(unittest.TestCase):
    def test_named(self):
        cases = {
            "/usr/lib/pypy3.10/bin/pypy3.10": "PyPy (pypy3.10)",
            "/usr/lib/pypy3/bin/libpypy3.10-c.so": "PyPy (libpypy3.10-c.so)",
            "/usr/bin/pypy": "PyPy (pypy)",
            "/opt/py/bin/python3.13t": "free-threaded CPython 3.13t",
            "/opt/py/lib/libpython3.14t.so.1.0": "free-threaded CPython 3.14t",
        }
        for path, want in cases.items():
            self.assertEqual(versions.other_interpreter(["/bin/sleep", path]), want, path)

    def test_cpython_and_others(self):
        for path in ("/usr/bin/python3.11", "/usr/lib/libpython3.13.so.1.0", "python3.10-dbg", "/usr/bin/pypyr",
                     "/usr/lib/python3/dist-packages/pypy_helper.so", "python3.13tk", "", None):
            self.assertIsNone(versions.other_interpreter([path]), repr(path))


class Registry(unittest.TestCase):
    def test_pure_modules_need_no_gdb(self):
        for name in ("coroner_layouts", "coroner_layouts.versions", "coroner_layouts.linetable"):
            importlib.import_module(name)
        self.assertNotIn("gdb", sys.modules)

    def test_every_version_names_every_feature(self):
        import coroner_layouts
        self.assertIn((3, 11), coroner_layouts.VERSIONS)
        self.assertEqual(coroner_layouts.supported(), ", ".join("%d.%d" % v for v in sorted(coroner_layouts.VERSIONS)))
        for version, (name, features) in coroner_layouts.VERSIONS.items():
            self.assertEqual(sorted(features), sorted(coroner_layouts.FEATURES), version)
            self.assertTrue(name.startswith("cpython-"), name)
            for spec in features.values():
                module = spec.rpartition(".")[0]
                self.assertIsNotNone(importlib.util.find_spec("coroner_layouts." + module), spec)

    def test_every_class_is_defined_where_named(self):
        # The feature modules import gdb, so their classes are looked up in their source.
        import ast

        import coroner_layouts
        self.assertIn((3, 13), coroner_layouts.VERSIONS)
        for version, (_name, features) in coroner_layouts.VERSIONS.items():
            for spec in features.values():
                module, _, cls = spec.rpartition(".")
                path = importlib.util.find_spec("coroner_layouts." + module).origin
                with open(path, encoding="utf-8") as f:
                    tree = ast.parse(f.read())
                classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
                self.assertIn(cls, classes, "%s of %d.%d" % (spec, *version))


if __name__ == "__main__":
    unittest.main()
