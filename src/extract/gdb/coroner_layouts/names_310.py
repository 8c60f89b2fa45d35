"""Thread names, command line and version of 3.6 to 3.10: as 3.11 (names.py), except where the
original command line is kept. 3.9 has it in the interpreter's PyConfig as _orig_argv (3.10
renamed it orig_argv, as 3.11 keeps it); 3.8's PyConfig does not keep it, but Py_GetArgcArgv's
static PyWideStringList orig_argv in Python/initconfig.c does (checked on a 3.8.18 core).
"""
import gdb

from coroner_layouts.names import Names
from coroner_mem import BadRead, minimal_symbol


class Names39(Names):
    ARGV_PATH = "config._orig_argv"


class Names38(Names):
    def argv(self, warn):
        """The C argv main() got, as _Py_SetArgcArgv kept it in the static orig_argv."""
        at = minimal_symbol("orig_argv")
        if at is None:
            warn("cannot read the command line: the symbol orig_argv was not found")
            return None
        try:
            return self._wide_string_list(at)
        except (BadRead, gdb.error, UnicodeError) as e:
            warn("cannot read the command line (orig_argv): %s" % e)
            return None


class Names37(Names):
    """3.6 and 3.7 (checked on pyenv 3.6.15 and 3.7.16 cores): no PyConfig keeps the command line;
    Modules/main.c keeps main()'s wide-string argv in the statics orig_argc/orig_argv, as 2.7 kept
    its byte strings."""

    def argv(self, warn):
        return self._static_argv(warn, self._wide_string)
