"""Lock waits and held locks.

A wait: what a thread blocked in a lock's acquire waits on, read from the `self` argument of the
C function it blocks in (Modules/_threadmodule.c).

Held locks: the lock behind each `with` block a frame is in. The frames feature gives the objects
a with block keeps on the value stack (block_values); the one that is a with block's is its
bound __exit__: a builtin method whose self is a _thread.lock or _thread.RLock, or a Python
method `__exit__` of a threading.Condition (whose lock is its _lock) or of contextlib's manager of
a @contextmanager (whose generator, paused at its yield, may hold locks in with blocks of its
own: the frames feature gives their values as it gives a frame's). A Condition's wait() gives
its lock up until it is notified: a lock held through a Condition that an inner frame waits on
is marked released. Objects of other kinds are not locks this reads (a user's context manager).
"""
import struct

import gdb

from coroner_mem import BadRead, Layout as CStruct, address_of


class Locks:
    LOCK_ACQUIRE = "lock_PyThread_acquire_lock"
    RLOCK_ACQUIRE = "rlock_acquire"
    # tp_name of the lock types (Modules/_threadmodule.c), and their kind in a wait.
    LOCK_TYPES = {"_thread.lock": "lock", "_thread.RLock": "rlock"}
    # Python classes (threading.py) that are locks themselves: the pure-Python RLock.
    PY_LOCK_CLASSES = {"_PyRLock": "rlock"}
    # Python classes (threading.py) whose `with` holds another lock: the attribute it is in.
    CONDITION_CLASSES = {"Condition": "_lock"}
    # contextlib's manager of a @contextmanager function, and the attribute with its generator:
    # the generator, paused at its yield, may be inside with blocks of its own.
    GENERATOR_MANAGERS = {"_GeneratorContextManager": "gen"}
    MAX_NESTED_MANAGERS = 8
    # Where a Condition's wait() runs, and the local it keeps the lock it blocks on in.
    THREADING_FILE = "threading.py"
    CONDITION_WAITS = ("wait", "wait_for")
    WAITER_LOCAL = "waiter"

    def __init__(self, layout):
        self.mem = layout.mem
        self.objects = layout.objects
        self.frames = layout.frames
        self._rlock = None  # looked up on the first RLock wait: most cores have none
        self._methods = None  # looked up on the first block value: most frames have none

    def lock_wait(self, function, frame):
        """{"kind", "address", "owner_ident", "count"} for a native frame blocked on a lock, or None."""
        if function == self.LOCK_ACQUIRE:
            self_addr = _frame_self(frame)
            if self_addr:
                return {"kind": "lock", "address": self_addr, "owner_ident": None, "count": None}
        elif function == self.RLOCK_ACQUIRE:
            self_addr = _frame_self(frame)
            if self_addr:
                if self._rlock is None:
                    self._rlock = CStruct("rlockobject")
                rl = self._rlock
                owner = count = None
                try:
                    owner = self.mem.u64(self_addr + rl["rlock_owner"])
                    count = self.mem.u64(self_addr + rl["rlock_count"])
                except BadRead:
                    pass
                return {"kind": "rlock", "address": self_addr, "owner_ident": owner, "count": count}
        return None


    # ------------------------------------------------------------------ held locks

    def _method_layout(self):
        if self._methods is None:
            self._methods = {
                "cfunction": address_of("PyCFunction_Type"),
                "method": address_of("PyMethod_Type"),
                "cf": CStruct("PyCFunctionObject"),
                "ml": CStruct("PyMethodDef"),
                "me": CStruct("PyMethodObject"),
            }
        return self._methods

    def exit_self(self, addr):
        """The object a bound __exit__ at addr belongs to, or 0 when addr is not a bound __exit__."""
        m = self._method_layout()
        mem, o = self.mem, self.objects
        tp = mem.u64(addr + o.ob["ob_type"])
        if tp == m["cfunction"]:
            name = mem.cstring(mem.u64(mem.u64(addr + m["cf"]["m_ml"]) + m["ml"]["ml_name"]), 16)
            return mem.u64(addr + m["cf"]["m_self"]) if name == "__exit__" else 0
        if tp == m["method"]:
            func = mem.u64(addr + m["me"]["im_func"])
            if o.kind_of_type(mem.u64(func + o.ob["ob_type"])) != "function":
                return 0
            if o.str_value(mem.u64(func + o.fn["func_name"])) != "__exit__":
                return 0
            return mem.u64(addr + m["me"]["im_self"])
        return 0

    def lock_kind(self, addr):
        """"lock" or "rlock" for a lock object, else None."""
        info = self.objects.type_info(self.mem.u64(addr + self.objects.ob["ob_type"]))
        if info is None:
            return None
        if info[0] == "instance":
            return self.PY_LOCK_CLASSES.get(info[1])
        return self.LOCK_TYPES.get(info[1])

    def _class_name(self, addr):
        info = self.objects.type_info(self.mem.u64(addr + self.objects.ob["ob_type"]))
        return info[1] if info is not None and info[0] == "instance" else None

    def held(self, value, depth=0):
        """[{"address", "kind", "condition", "context"}] of the locks a with block holds, from the
        value it keeps on the stack (its bound __exit__): the lock itself, a Condition's lock, or
        those of the with blocks a @contextmanager's generator is paused in (context: the
        generator's function). [] for any other value."""
        try:
            owner = self.exit_self(value)
            if not owner:
                return []
            kind = self.lock_kind(owner)
            if kind:
                return [{"address": owner, "kind": kind, "condition": None, "context": None}]
            cls = self._class_name(owner)
            attr = self.CONDITION_CLASSES.get(cls)
            if attr:
                lock = self.objects.instance_attr(owner, attr)
                kind = lock and self.lock_kind(lock)
                return [{"address": lock, "kind": kind, "condition": owner, "context": None}] if kind else []
            attr = self.GENERATOR_MANAGERS.get(cls)
            if attr and depth < self.MAX_NESTED_MANAGERS:
                gen = self.objects.instance_attr(owner, attr)
                name, values = self.frames.generator_blocks(gen) if gen else (None, [])
                out = []
                for inner in values:
                    for h in self.held(inner, depth + 1):
                        h["context"] = h["context"] or name
                        out.append(h)
                return out
        except (BadRead, ValueError, UnicodeError, struct.error):
            pass
        return []

    def held_locks(self, frames):
        """[{"address", "kind", "frame", "condition", "context", "released"}] of a thread's Python
        frames (innermost first, as the frames feature gives them), innermost frame first."""
        out = []
        for index, fr in enumerate(frames):
            for value in fr.get("block_values") or ():
                for h in self.held(value):
                    if any(o["address"] == h["address"] and o["frame"] == index for o in out):
                        continue
                    h["frame"] = index
                    h["released"] = bool(h["condition"]) and any(
                        self._condition_wait_frame(inner, h["condition"]) for inner in frames[:index])
                    out.append(h)
        return out

    def _condition_wait_frame(self, fr, condition):
        """Whether fr is a Condition's wait() (threading.py) on that Condition."""
        if fr["function"] not in self.CONDITION_WAITS or not fr["file"].endswith(self.THREADING_FILE):
            return False
        return any(name == "self" and addr == condition for name, _kind, addr in fr["locals"])

    def condition_wait(self, wait, frames):
        """The Condition whose wait() the thread blocks in (its waiter lock is the one it waits
        on), or None."""
        if not wait or not frames:
            return None
        top = frames[0]
        if top["function"] != "wait" or not top["file"].endswith(self.THREADING_FILE):
            return None
        own = {name: addr for name, _kind, addr in top["locals"]}
        if own.get(self.WAITER_LOCAL) != wait["address"] or not own.get("self"):
            return None
        return own["self"] if self._class_name(own["self"]) in self.CONDITION_CLASSES else None


def _frame_self(frame):
    try:
        v = frame.read_var("self")
        if v.is_optimized_out:
            return 0
        return int(v)
    except (gdb.error, ValueError, RuntimeError):
        return 0
