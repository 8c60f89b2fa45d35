"""Names of 3.12 on: sys.modules moved into the interpreter's import state."""
from coroner_layouts.names import Names


class Names312(Names):
    MODULES_PATH = "imports.modules"
