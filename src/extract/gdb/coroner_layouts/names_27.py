"""What the 2.7 interpreter's own data says about the process: thread names (threading._active,
whose Thread objects keep the name as _Thread__name), the command line (Py_GetArgcArgv's statics
orig_argc/orig_argv in Modules/main.c: the C argv, byte strings) and sys.hexversion (Names)."""

from coroner_layouts.names import Names


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
        """The C argv main() got (2.7 has no sys.orig_argv): byte strings."""
        return self._static_argv(warn, lambda a: self.mem.cstring(a, 1 << 16))
