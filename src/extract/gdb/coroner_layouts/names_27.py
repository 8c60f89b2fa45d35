"""What the 2.7 interpreter's own data says about the process: thread names (threading._active,
whose Thread objects keep the name as _Thread__name), the command line (Py_GetArgcArgv's statics
orig_argc/orig_argv in Modules/main.c: the C argv, byte strings) and sys.hexversion (Names)."""

from coroner_layouts.names import Names
from coroner_mem import BadRead, minimal_symbol

MAX_ARGS = 4096


class Names27(Names):
    # threading.Thread of 2.7 keeps its name in a private attribute; a subclass may use `name`'s
    # 3.x spelling (e.g. a backport): the first one found counts.
    NAME_ATTRS = ("_Thread__name", "_name")

    def _ident(self, described):
        if described[0] == "int":
            return described[1] & (1 << 64) - 1
        if described[0] == "text" and described[1].endswith("L") and described[1][:-1].isdigit():
            return int(described[1][:-1]) & (1 << 64) - 1  # an ident beyond a long's range is a long
        return None

    def _text(self, addr):
        # A 2.7 name is a byte string: decoded as UTF-8.
        return self.objects.text_value(addr)

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
