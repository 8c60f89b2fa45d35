"""What the interpreter's own data says about the process: thread names (threading._active),
the command line (sys.orig_argv) and the version (sys.hexversion, sys.version).

All of it is read through the object decoders, so it holds for every version whose
interpreter state has the members named here.
"""
import struct

import gdb

from coroner_layouts import versions
from coroner_mem import BadRead, Layout as CStruct, field_path_offset, minimal_symbol

MAX_ARGS = 4096
WCHAR = 4  # wchar_t on Linux


class Names:
    # Include/cpython/initconfig.h: PyConfig.orig_argv (3.10+), a PyWideStringList.
    ARGV_PATH = "config.orig_argv"
    # PyInterpreterState's sys.modules dict (3.12 on: imports.modules).
    MODULES_PATH = "modules"

    def __init__(self, layout):
        self.mem = layout.mem
        self.runtime = layout.runtime
        self.objects = layout.objects

    # The Thread attribute that holds its name; the first one found counts.
    NAME_ATTRS = ("_name",)

    def thread_names(self, warn):
        """{ident: (name, Thread address)} from threading._active (the Thread objects' _name)."""
        objects = self.objects
        names = {}
        for interp in self.runtime.interpreters():
            try:
                threading = self._module(interp, "threading")
                if not threading:
                    continue
                active = objects.dict_get_str(self.mem.u64(threading + objects.mo["md_dict"]), "_active")
                if not active:
                    continue
                for k, v in objects.dict_items(active):
                    ident = self._ident(objects.describe(k))
                    if ident is None:
                        continue
                    for attr in self.NAME_ATTRS:
                        name = self._text(objects.instance_attr(v, attr))
                        if name is not None:
                            names[ident] = (name, v)
                            break
            except (BadRead, ValueError, UnicodeError, struct.error) as e:
                warn("cannot read thread names from threading._active: %s" % e)
        return names

    def _ident(self, described):
        """A thread ident from a key of threading._active as the objects feature describes it."""
        return described[1] if described[0] == "int" and isinstance(described[1], int) else None

    def _text(self, addr):
        return self.objects.str_value(addr)

    def _module(self, interp, name):
        modules = self.mem.u64(interp + field_path_offset("PyInterpreterState", self.MODULES_PATH))
        return self.objects.dict_get_str(modules, name) if modules else 0

    def argv(self, warn):
        """sys.orig_argv, read from the interpreter's PyConfig (a PyWideStringList of wchar_t*)."""
        try:
            interp = self.runtime.interpreters()[0]
            return self._wide_string_list(interp + field_path_offset("PyInterpreterState", self.ARGV_PATH))
        except (BadRead, IndexError, gdb.error, UnicodeError) as e:
            warn("cannot read the command line (sys.orig_argv): %s" % e)
            return None

    def _static_argv(self, warn, read_string):
        """The C argv main() got, as Py_GetArgcArgv keeps it in the statics orig_argc/orig_argv of
        Modules/main.c (2.7 to 3.7: no PyConfig keeps it), each string read by read_string."""
        mem = self.mem
        argc_at = minimal_symbol("orig_argc")
        argv_at = minimal_symbol("orig_argv")
        if argc_at is None or argv_at is None:
            warn("cannot read the command line: the symbols orig_argc/orig_argv were not found")
            return None
        try:
            argc = mem.i32(argc_at)
            argv = mem.u64(argv_at)
            if not 0 < argc < MAX_ARGS or not argv:
                return None
            return [read_string(a) for a in mem.ptrs(argv, argc)]
        except (BadRead, UnicodeError) as e:
            warn("cannot read the command line (orig_argv): %s" % e)
            return None

    def _wide_string_list(self, lst):
        """The strings of the PyWideStringList at `lst`; None when its length is not plausible."""
        mem = self.mem
        wsl = CStruct("PyWideStringList")
        length = mem.i64(lst + wsl["length"])
        if not 0 < length < MAX_ARGS:
            return None
        return [self._wide_string(a) for a in mem.ptrs(mem.u64(lst + wsl["items"]), length)]

    def _wide_string(self, addr, limit=1 << 16):
        """A NUL-terminated wchar_t string."""
        chunks = []
        for start in range(0, limit * WCHAR, 4096):
            raw = self.mem.read(addr + start, 4096)
            for j in range(0, len(raw), WCHAR):
                ch = struct.unpack_from("<I", raw, j)[0]
                if ch == 0:
                    return "".join(chunks)
                chunks.append(chr(ch) if ch < 0x110000 else "\ufffd")
        return "".join(chunks)

    def sys_hexversion(self):
        """PY_VERSION_HEX from sys.hexversion, else parsed from sys.version, in the sys dict of
        the main interpreter (the last in the list); None when neither reads as one."""
        objects = self.objects
        interp = self.runtime.interpreters()[-1]
        sysdict = self.mem.u64(interp + self.runtime.is_["sysdict"])
        if not sysdict:
            return None
        d = objects.describe(objects.dict_get_str(sysdict, "hexversion"))
        if d[0] == "int" and versions.plausible_hexversion(d[1]):
            return d[1]
        return versions.hexversion_from_text(objects.str_value(objects.dict_get_str(sysdict, "version")))
