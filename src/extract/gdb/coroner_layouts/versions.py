"""CPython version numbers from what a core and its files say. No gdb here, so that the parsing
can be tested without a core (test/unit/python/test_versions.py).

A core may say its version in several ways, none of them present in every version: the
Py_Version constant (3.11+), the cookie of _PyRuntime.debug_offsets (3.13+), sys.hexversion
and sys.version in the interpreter's sys dict (any version, once a layout can read that dict),
and the names of the python/libpython files gdb loaded (major.minor only).
"""
import os
import re

# Include/patchlevel.h: PY_RELEASE_LEVEL_*
_LEVEL_SUFFIX = {0xA: "a", 0xB: "b", 0xC: "rc"}
_SUFFIX_LEVEL = {"a": 0xA, "b": 0xB, "c": 0xC, "rc": 0xC}
FINAL = 0xF

# Include/internal/pycore_debug_offsets.h: _Py_Debug_Cookie, then uint64_t version.
DEBUG_COOKIE = b"xdebugpy"


def major_minor(hexversion):
    return (hexversion >> 24) & 0xFF, (hexversion >> 16) & 0xFF


def make_hexversion(major, minor, micro=0, level=FINAL, serial=0):
    return (major << 24) | (minor << 16) | (micro << 8) | (level << 4) | serial


def version_text(hexversion):
    """"3.11.2", "3.12.0rc1": what sys.version starts with, from PY_VERSION_HEX."""
    major, minor = major_minor(hexversion)
    micro = (hexversion >> 8) & 0xFF
    level = (hexversion >> 4) & 0xF
    serial = hexversion & 0xF
    text = "%d.%d.%d" % (major, minor, micro)
    if level != FINAL:
        text += _LEVEL_SUFFIX.get(level, "?") + str(serial)
    return text


def plausible_hexversion(value):
    """Whether a number read from a core can be a PY_VERSION_HEX. A layout guessed wrong reads
    some other word, and naming a version the process never ran would mislead more than
    saying nothing."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 1 << 32:
        return False
    major, minor = major_minor(value)
    level = (value >> 4) & 0xF
    serial = value & 0xF
    if major not in (2, 3) or minor > 99 or level not in (0xA, 0xB, 0xC, FINAL):
        return False
    return not (level == FINAL and serial)


def hexversion_from_text(text):
    """PY_VERSION_HEX of a sys.version or PY_VERSION text ("3.11.2 (main, ...) [GCC 12.2.0]",
    "3.12.0rc1+", "2.7.18"), or None. A "+" (built from a later checkout) does not change it."""
    if not isinstance(text, str):
        return None
    m = re.match(r"\s*(\d{1,2})\.(\d{1,2})(?:\.(\d{1,3}))?(?:(a|b|rc|c)(\d{1,2}))?(?![\d.])", text)
    if not m:
        return None
    major, minor, micro = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    level = _SUFFIX_LEVEL[m.group(4)] if m.group(4) else FINAL
    serial = int(m.group(5)) if m.group(5) else 0
    if micro > 255 or serial > 15:
        return None
    value = make_hexversion(major, minor, micro, level, serial)
    return value if plausible_hexversion(value) else None


def hexversion_from_debug_offsets(head):
    """PY_VERSION_HEX from the first 16 bytes of _Py_DebugOffsets (3.13+ keeps it first in
    _PyRuntime so that out-of-process debuggers need no DWARF to find it), or None."""
    if len(head) < 16 or bytes(head[:8]) != DEBUG_COOKIE:
        return None
    value = int.from_bytes(bytes(head[8:16]), "little")
    return value if plausible_hexversion(value) else None


# python3.11, python3.11d, python2.7, libpython3.11.so.1.0, libpython3.13t.so: the version
# follows "python" at the start of the name. The name is matched whole-word at its start so
# that e.g. "mypython3.1x" or "python3" (a symlink that says no minor) are not taken.
_FILE_NAME = re.compile(r"^(?:lib)?python(\d)\.(\d{1,2})(?!\d)")


def version_from_file_name(path):
    """(major, minor) from the name of a python executable or libpython, or None."""
    m = _FILE_NAME.match(os.path.basename(path or ""))
    if not m:
        return None
    return int(m.group(1)), int(m.group(2))


def version_from_file_names(paths):
    """(major, minor) of the first name that says one, or None."""
    for p in paths:
        v = version_from_file_name(p)
        if v:
            return v
    return None


# Interpreters coroner does not read, told by their files: PyPy (pypy3.10, libpypy3.10-c.so) and
# free-threaded CPython builds (python3.13t, libpython3.13t.so), whose objects have another header.
_PYPY = re.compile(r"^(?:lib)?pypy(\d(?:\.\d{1,2})?)?(?:-c)?(?:\.so|$)")
_FREE_THREADED = re.compile(r"^(?:lib)?python(\d)\.(\d{1,2})t(?![a-z\d])")


def other_interpreter(paths):
    """What to call the interpreter of a process whose files name one coroner does not read
    ("PyPy (pypy3.10)", "free-threaded CPython 3.13t"), or None."""
    for p in paths:
        name = os.path.basename(p or "")
        m = _PYPY.match(name)
        if m:
            return "PyPy (%s)" % name
        m = _FREE_THREADED.match(name)
        if m:
            return "free-threaded CPython %s.%st" % (m.group(1), m.group(2))
    return None
