"""repr() of objects in a core, as Python itself would print them, cut to a budget (version-neutral).

The version's object decoders turn an address into a small description
(objects.describe(addr), coroner_layouts/objects.py); this module turns descriptions into text. Containers are described
with lazy iterators of addresses, and the writer stops as soon as the text is longer than the
budget, so a million-item list costs no more than a short one.

Descriptions (first item is the kind):
  ("invalid",)                          unreadable or implausible object
  ("none",) ("bool", b) ("int", n) ("float", x)
  ("str", text, complete)               text may be a prefix when complete is False
  ("bytes", data, complete) ("bytearray", data, complete)
  ("list", it) ("tuple", it) ("set", it) ("frozenset", it)    it yields addresses
  ("dict", it)                          it yields (key address, value address)
  ("instance", name) ("function", name) ("module", name) ("type", name) ("object", tp_name)
  ("text", literal)                     already-formatted text
"""

import struct
import sys

from coroner_mem import BadRead

LIMIT = 80
_MAX_DEPTH = 40

_RECURSIVE = {"list": "[...]", "tuple": "(...)", "dict": "{...}"}
# What repr() prints around a set's items, and for an empty set: (open, close, empty). A version
# that prints sets otherwise (2.7: set([1])) says so in its objects feature's SET_FORMS.
SET_FORMS = {"set": ("{", "}", "set()"), "frozenset": ("frozenset({", "})", "frozenset()")}


class _Full(Exception):
    pass


# What corrupt or unreadable memory raises while the decoders read an object.
DATA_ERRORS = (BadRead, ValueError, UnicodeError, OverflowError, IndexError, struct.error)


def cut(text, limit=LIMIT):
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Writer:
    __slots__ = ("parts", "size", "limit")

    def __init__(self, limit):
        self.parts = []
        self.size = 0
        self.limit = limit

    def write(self, s):
        self.parts.append(s)
        self.size += len(s)
        if self.size > self.limit:
            raise _Full()

    def text(self):
        return "".join(self.parts)


class ReprEngine:
    def __init__(self, objects, warn, limit=LIMIT):
        self.objects = objects
        self.warn = warn
        self.limit = limit
        self._cache = {}
        self.set_forms = getattr(objects, "SET_FORMS", SET_FORMS)

    def repr(self, addr):
        """Python's repr of the object at addr, cut to the budget. Never raises."""
        try:
            return self._cache[addr]
        except KeyError:
            pass
        w = _Writer(self.limit)
        try:
            self._emit(w, addr, set(), 0)
        except _Full:
            pass
        except DATA_ERRORS:
            w.parts = [invalid(addr)]
        except Exception as e:  # noqa: BLE001 - a bug in one object's decoding must not end the extraction
            self.warn("repr of object at 0x%x failed: %s" % (addr, one_line(e)))
            w.parts = [invalid(addr)]
        text = cut(w.text(), self.limit)
        self._cache[addr] = text
        return text

    def _emit(self, w, addr, stack, depth):
        d = self.objects.describe(addr)
        kind = d[0]
        if kind == "invalid":
            w.write(invalid(addr))
        elif kind == "none":
            w.write("None")
        elif kind == "bool":
            w.write("True" if d[1] else "False")
        elif kind == "int":
            w.write(_int_text(d[1]))
        elif kind == "float":
            w.write(repr(d[1]))
        elif kind == "str":
            r = repr(d[1])
            w.write(r if d[2] else r[:-1])
        elif kind == "bytes":
            r = repr(d[1])
            w.write(r if d[2] else r[:-1])
        elif kind == "bytearray":
            r = repr(bytes(d[1]))
            w.write("bytearray(" + (r + ")" if d[2] else r[:-1]))
        elif kind in ("list", "tuple", "dict", "set", "frozenset"):
            self._container(w, addr, kind, d[1], stack, depth)
        elif kind == "instance":
            w.write("<%s at 0x%x>" % (d[1], addr))
        elif kind == "function":
            w.write("<function %s at 0x%x>" % (d[1], addr))
        elif kind == "module":
            w.write("<module %s>" % repr(d[1]))
        elif kind == "type":
            w.write("<class %s>" % repr(d[1]))
        elif kind == "object":
            w.write("<%s object at 0x%x>" % (d[1], addr))
        elif kind == "text":
            w.write(d[1])
        else:
            w.write(invalid(addr))

    def _container(self, w, addr, kind, items, stack, depth):
        if addr in stack:
            w.write(_RECURSIVE.get(kind) or ("%s(...)" % kind))
            return
        if depth >= _MAX_DEPTH:
            w.write("...")
            return
        stack.add(addr)
        mark = (len(w.parts), w.size)
        try:
            self._items(w, kind, items, stack, depth)
        except DATA_ERRORS:
            # The container's memory is corrupt half way: show it as one invalid object.
            del w.parts[mark[0]:]
            w.size = mark[1]
            w.write(invalid(addr))
        finally:
            stack.discard(addr)

    def _items(self, w, kind, items, stack, depth):
        if kind == "list":
            self._seq(w, "[", "]", items, stack, depth)
        elif kind == "tuple":
            n = self._seq(w, "(", None, items, stack, depth)
            w.write(",)" if n == 1 else ")")
        elif kind == "dict":
            w.write("{")
            first = True
            for k, v in items:
                if not first:
                    w.write(", ")
                first = False
                self._emit(w, k, stack, depth + 1)
                w.write(": ")
                self._emit(w, v, stack, depth + 1)
            w.write("}")
        else:  # set / frozenset
            open_, close, empty = self.set_forms[kind]
            it = iter(items)
            head = next(it, None)
            if head is None:
                w.write(empty)
                return
            w.write(open_)
            self._emit(w, head, stack, depth + 1)
            for item in it:
                w.write(", ")
                self._emit(w, item, stack, depth + 1)
            w.write(close)

    def _seq(self, w, open_, close, items, stack, depth):
        w.write(open_)
        n = 0
        for item in items:
            if n:
                w.write(", ")
            self._emit(w, item, stack, depth + 1)
            n += 1
        if close:
            w.write(close)
        return n


def invalid(addr):
    return "<invalid object at 0x%x>" % addr


def _int_text(n):
    if isinstance(n, str):  # the decoder gave up on an enormous int and described it
        return n
    try:
        return str(n)
    except ValueError:  # more digits than sys.int_max_str_digits allows
        pass
    bits = n.bit_length()
    if bits <= 200000 and hasattr(sys, "set_int_max_str_digits"):
        old = sys.get_int_max_str_digits()
        try:
            sys.set_int_max_str_digits(0)
            return str(n)
        finally:
            sys.set_int_max_str_digits(old)
    return "<int with about %d digits>" % int(bits * 0.30103)


def one_line(e):
    """An exception as one line of text, its type first."""
    text = ("%s: %s" % (type(e).__name__, e)).strip()
    return text.splitlines()[0] if text else type(e).__name__
