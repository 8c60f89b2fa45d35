"""Layout modules, one per CPython version family, selected by (major, minor).

To support another version, add a module with a class Layout implementing the interface
described in cpython_311.py, and register it in LAYOUTS.
"""
import importlib

# (major, minor) -> module name inside this package
LAYOUTS = {
    (3, 11): "cpython_311",
}


def supported():
    return ", ".join("%d.%d" % v for v in sorted(LAYOUTS))


def load(major, minor):
    """The Layout class for a version, or None when there is no module for it."""
    name = LAYOUTS.get((major, minor))
    if name is None:
        return None
    module = importlib.import_module(__name__ + "." + name)
    return module.Layout
