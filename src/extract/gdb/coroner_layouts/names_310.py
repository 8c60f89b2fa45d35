"""Thread names, command line and version of 3.8 to 3.10: as 3.11 (names.py), except where the
original command line is kept. 3.9 has it in the interpreter's PyConfig as _orig_argv (3.10
renamed it orig_argv, as 3.11 keeps it); 3.8 does not keep it (argv() gives None).
"""
from coroner_layouts.names import Names


class Names39(Names):
    ARGV_PATH = "config._orig_argv"


class Names38(Names):
    def argv(self, warn):
        return None
