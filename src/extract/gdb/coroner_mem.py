"""Memory and struct-layout access for coroner's gdb script (version-neutral).

Memory is read from the inferior (the core) a page at a time and cached, so that the many
small reads of object headers cost a dict lookup and a struct.unpack each instead of a
gdb round trip. Struct offsets come from the DWARF types gdb has loaded, once.
"""
import re
import struct

import gdb

PAGE = 4096
_PAGE_MASK = ~(PAGE - 1)

_U64 = struct.Struct("<Q")
_I64 = struct.Struct("<q")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_F64 = struct.Struct("<d")


class BadRead(Exception):
    """An address that cannot be read from the core."""

    def __init__(self, addr, size=0):
        Exception.__init__(self, "cannot read %d bytes at 0x%x" % (size, addr))
        self.addr = addr


class Memory:
    """Cached reader of the inferior's memory. Every method raises BadRead, nothing else."""

    # A user-space pointer on x86-64/aarch64 Linux is below this.
    MAX_ADDR = 1 << 48

    def __init__(self, inferior=None):
        self._inf = inferior or gdb.selected_inferior()
        self._pages = {}

    def _page(self, base):
        try:
            return self._pages[base]
        except KeyError:
            pass
        try:
            data = bytes(self._inf.read_memory(base, PAGE))
        except (gdb.MemoryError, gdb.error, OverflowError, ValueError):
            data = None
        self._pages[base] = data
        return data

    def read(self, addr, size):
        if size <= 0:
            return b""
        if addr <= 0 or addr + size > self.MAX_ADDR:
            raise BadRead(addr, size)
        base = addr & _PAGE_MASK
        off = addr - base
        page = self._page(base)
        if page is not None and off + size <= PAGE:
            return page[off:off + size]
        parts = []
        got = 0
        while got < size:
            take = min(PAGE - off, size - got)
            if page is None:
                # The whole page is not readable, yet the bytes asked for may be (a section of
                # the executable that gdb reads from the file and that ends inside a page).
                parts.append(self._exact(addr + got, take))
            else:
                parts.append(page[off:off + take])
            got += take
            base += PAGE
            off = 0
            if got < size:
                page = self._page(base)
        return b"".join(parts)

    def _exact(self, addr, size):
        try:
            return bytes(self._inf.read_memory(addr, size))
        except (gdb.MemoryError, gdb.error, OverflowError, ValueError):
            raise BadRead(addr, size) from None

    def readable(self, addr, size=1):
        try:
            self.read(addr, size)
            return True
        except BadRead:
            return False

    def u64(self, addr):
        return _U64.unpack(self.read(addr, 8))[0]

    def i64(self, addr):
        return _I64.unpack(self.read(addr, 8))[0]

    def u32(self, addr):
        return _U32.unpack(self.read(addr, 4))[0]

    def i32(self, addr):
        return _I32.unpack(self.read(addr, 4))[0]

    def u8(self, addr):
        return self.read(addr, 1)[0]

    def f64(self, addr):
        return _F64.unpack(self.read(addr, 8))[0]

    def ptrs(self, addr, count):
        """`count` consecutive pointers."""
        if count <= 0:
            return ()
        return struct.unpack("<%dQ" % count, self.read(addr, 8 * count))

    def cstring(self, addr, limit=256):
        """A NUL-terminated C string (decoded as UTF-8), at most `limit` bytes."""
        if addr <= 0 or addr >= self.MAX_ADDR:
            raise BadRead(addr, 1)
        out = []
        got = 0
        while got < limit:
            base = (addr + got) & _PAGE_MASK
            off = addr + got - base
            want = min(PAGE - off, limit - got)
            page = self._page(base)
            if page is None:
                # Not a whole readable page: read what can be read, a byte at a time at worst.
                try:
                    chunk = self._exact(addr + got, want)
                except BadRead:
                    if not out and not got:
                        chunk = self._exact(addr, 1)
                    else:
                        chunk = self._exact(addr + got, 1)
            else:
                chunk = page[off:off + want]
            end = chunk.find(b"\0")
            if end >= 0:
                out.append(chunk[:end])
                break
            out.append(chunk)
            got += len(chunk)
        return b"".join(out).decode("utf-8", "replace")


class Layout:
    """Offsets and size of one C struct, read from DWARF: layout.off['field'], layout.size."""

    def __init__(self, type_name):
        try:
            t = gdb.lookup_type(type_name).strip_typedefs()
        except gdb.error:
            # A typedef gdb has not read yet is not found through its index (seen with a pyenv
            # 3.12's _PyInterpreterFrame, depending on which units the core's stacks expanded);
            # the struct of the same name is.
            t = gdb.lookup_type("struct " + type_name).strip_typedefs()
        self.name = type_name
        self.type = t
        self.size = t.sizeof
        self.off = {}
        # Members of embedded base structs (ob_base.ob_type, _base.length...) are reachable by
        # their own names too, breadth first, so a name at the top level always wins.
        queue = [(t, 0)]
        while queue:
            st, base = queue.pop(0)
            for f in st.fields():
                if not hasattr(f, "bitpos"):
                    continue
                off = base + f.bitpos // 8
                if not f.name:
                    # An anonymous struct or union (3.12+ keeps ob_refcnt in one): its members
                    # are the enclosing struct's, at its offset.
                    ft = f.type.strip_typedefs()
                    if ft.code in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
                        queue.insert(0, (ft, off))
                    continue
                if f.name not in self.off:
                    self.off[f.name] = off
                ft = f.type.strip_typedefs()
                if ft.code == gdb.TYPE_CODE_STRUCT and base == 0 and len(queue) < 64:
                    queue.append((ft, off))
                elif ft.code == gdb.TYPE_CODE_STRUCT and f.name in ("ob_base", "_base", "ht_type"):
                    queue.append((ft, off))

    def __getitem__(self, name):
        return self.off[name]

    def has(self, name):
        return name in self.off


def field_path_offset(type_name, path):
    """Offset of a nested member, e.g. field_path_offset('_PyRuntimeState', 'ceval.gil.locked')."""
    t = gdb.lookup_type(type_name).strip_typedefs()
    total = 0
    for part in path.split("."):
        for f in t.fields():
            if f.name == part:
                total += f.bitpos // 8
                t = f.type.strip_typedefs()
                break
        else:
            raise KeyError("%s has no member %s" % (type_name, path))
    return total


def bitfield(type_name, struct_member, bit_member):
    """(bit offset from the start of struct_member, bit size) of a bitfield inside it."""
    t = gdb.lookup_type(type_name).strip_typedefs()
    for f in t.fields():
        if f.name == struct_member:
            for g in f.type.strip_typedefs().fields():
                if g.name == bit_member:
                    return g.bitpos, g.bitsize
    raise KeyError("%s.%s.%s" % (type_name, struct_member, bit_member))


def bits(word, spec):
    """The value of a bitfield (as bitfield() describes it) in the word that holds it."""
    pos, size = spec
    return (word >> pos) & ((1 << size) - 1)


def u64_at(raw, off):
    return _U64.unpack_from(raw, off)[0]


def i64_at(raw, off):
    return _I64.unpack_from(raw, off)[0]


def i32_at(raw, off):
    return _I32.unpack_from(raw, off)[0]


# ------------------------------------------------------------------------------ symbols


def address_of(name):
    """Address of a global or static symbol; raises gdb.error when there is none."""
    return int(gdb.parse_and_eval("(unsigned long)&%s" % name))


def symbol_address(name):
    """Address of a global or static symbol (debug or minimal), or None."""
    try:
        return address_of(name)
    except (gdb.error, RuntimeError, ValueError, OverflowError):
        return None


def minimal_symbol(name):
    """Address of a symbol that may only exist as a minimal symbol (an LTO static: name.lto_priv)."""
    for spelled in (name, "'%s.lto_priv.0'" % name):
        addr = symbol_address(spelled)
        if addr is not None:
            return addr
    # The slow way (a regex over every symbol, a quarter second): other suffixes GCC may give.
    try:
        text = gdb.execute("info variables ^%s" % name, to_string=True)
    except gdb.error:
        return None
    for line in text.splitlines():
        m = re.match(r"\s*0x([0-9a-f]+)\s+%s(\.lto_priv(\.\d+)?)?\s*$" % re.escape(name), line)
        if m:
            return int(m.group(1), 16)
    return None
