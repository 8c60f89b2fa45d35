"""What the 2.7 interpreter's own data says about the process: thread names (threading._active,
whose Thread objects keep the name as _Thread__name), the command line (Py_GetArgcArgv's statics
orig_argc/orig_argv in Modules/main.c: the C argv, byte strings) and sys.hexversion (Names)."""
import struct

from coroner_layouts.names import Names
from coroner_mem import BadRead, minimal_symbol

MAX_ARGS = 4096


class Names27(Names):
    # threading.Thread of 2.7 keeps its name in a private attribute; a subclass may use `name`'s
    # 3.x spelling (e.g. a backport): the first one found counts.
    NAME_ATTRS = ("_Thread__name", "_name")

    def thread_names(self, warn):
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
                    d = objects.describe(k)
                    if d[0] == "int":
                        ident = d[1]
                    elif d[0] == "text" and d[1].endswith("L") and d[1][:-1].isdigit():
                        ident = int(d[1][:-1])  # an ident beyond a long's range is a long
                    else:
                        continue
                    for attr in self.NAME_ATTRS:
                        name = objects.text_value(objects.instance_attr(v, attr))
                        if name is not None:
                            names[ident & (1 << 64) - 1] = (name, v)
                            break
            except (BadRead, ValueError, UnicodeError, struct.error) as e:
                warn("cannot read thread names from threading._active: %s" % e)
        return names

    def argv(self, warn):
        """The C argv main() got, as Py_GetArgcArgv keeps it (2.7 has no sys.orig_argv)."""
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
            return [mem.cstring(a, 1 << 16) for a in mem.ptrs(argv, argc)]
        except BadRead as e:
            warn("cannot read the command line (orig_argv): %s" % e)
            return None
