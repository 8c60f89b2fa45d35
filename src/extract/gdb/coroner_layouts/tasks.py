"""asyncio tasks: every live Task, its state, what it awaits, and its coroutine chain.

3.11 (Tasks311): asyncio keeps every task in one WeakSet, asyncio.tasks._all_tasks (the C
_asyncio module's own set, which the module exports under that name). A task is a C
_asyncio.Task (TaskObj in DWARF: the Future's fields with a task_ prefix, then the coroutine,
the future it waits on, its name...) or of a subclass of it. Its coroutine is a PyCoroObject (or
a generator, for a generator-based coroutine) that embeds its _PyInterpreterFrame (cr_iframe),
read as the frames feature reads any frame. What a suspended coroutine awaits is what
_PyGen_yf() returns: the top of its frame's value stack when the frame is suspended in a
`yield from` / `await` (3.11: the instruction after the last one run is a RESUME whose oparg is
2 or more). The chain follows that to the next coroutine, down to the innermost awaitable (a
FutureIter, whose future is the one the task waits on; anything else is described).

The loops are the tasks' task_loop objects: a BaseEventLoop keeps the ident of the thread that
runs it (_thread_id), its ready callbacks (_ready, a deque) and its timers (_scheduled, a list);
asyncio.tasks._current_tasks maps a loop to the task whose step it is running.

Tasks39 and Tasks310: the frame objects of 3.7 to 3.10. NoTasks: 2.7 and 3.6 (asyncio's C tasks and
their registry are 3.7's; tasks() gives None: not "no tasks", unknown).
"""
import struct

import gdb

from coroner_mem import BadRead, Layout as CStruct, address_of, i32_at, u64_at

MAX_TASKS = 100000
MAX_CHAIN = 1000
MAX_CHILDREN = 1000
MAX_GATHER_DEPTH = 32
PTR = 8

# Modules/_asynciomodule.c: fut_state
STATES = {0: "pending", 1: "cancelled", 2: "finished"}

# What the readers of one task can raise on corrupt or unreadable memory.
DATA_ERRORS = (BadRead, ValueError, KeyError, UnicodeError, OverflowError, IndexError, struct.error)


class NoTasks:
    SUPPORTED = False

    def __init__(self, layout):
        pass

    def tasks(self, warn, repr_of):
        return None


class Tasks311:
    SUPPORTED = True
    # Include/internal/pycore_frame.h: enum _framestate (3.11)
    FRAME_CREATED = -2
    FRAME_SUSPENDED = -1
    FRAME_EXECUTING = 0
    FRAME_COMPLETED = 1
    FRAME_CLEARED = 4
    # The _PyInterpreterFrame members holding the code object and where the frame is in it.
    CODE_FIELD = "f_code"
    INSTR_FIELD = "prev_instr"
    # Include/opcode.h
    RESUME = 151
    # The opcodes of a RESUME: after one with oparg >= 2 a frame is suspended in an await.
    RESUME_OPCODES = (RESUME,)
    # The sets of asyncio.tasks that hold the tasks: WeakSets, and plain sets.
    WEAK_SETS = ("_all_tasks",)
    PLAIN_SETS = ()
    # TaskObj members that are flags (an int in 3.11, a bit field in 3.13).
    FLAGS = ("task_log_tb", "task_log_destroy_pending", "task_must_cancel")

    def __init__(self, layout):
        self.layout = layout
        self.mem = layout.mem
        self.objects = layout.objects
        self.frames = layout.frames
        self._ready = False

    # ---------------------------------------------------------------- set up, once asyncio is there

    def _setup(self):
        if self._ready:
            return
        self.task = CStruct("TaskObj")
        self.fut = CStruct("FutureObj")
        self.fiter = CStruct("futureiterobject")
        self.gen = CStruct("PyGenObject")
        self.wr = CStruct("PyWeakReference")
        self.exc = CStruct("PyBaseExceptionObject")
        self._setup_frames()
        self.gen_types = {}
        for symbol, kind in (("PyCoro_Type", "coroutine"), ("PyGen_Type", "generator"), ("PyAsyncGen_Type", "async_generator")):
            try:
                self.gen_types[address_of(symbol)] = kind
            except gdb.error:
                pass
        self.flag_fields = {name: _member_bits(self.task.type, name) for name in self.FLAGS}
        try:
            self.deopt = self.mem.read(address_of("_PyOpcode_Deopt"), 256)
        except (gdb.error, BadRead):
            self.deopt = None
        # Per type, what every task asks again: its name, and where its slots are.
        self._base_names = {}
        self._type_names = {}
        self._slot_offsets = {}
        self.member_descr = None
        self._ready = True

    def _setup_frames(self):
        self.fr = self.frames.fr

    # ---------------------------------------------------------------- types

    def _type_chain(self, tp):
        """tp_name of a type and of its bases (tp_base), innermost first."""
        names = self._base_names.get(tp)
        if names is not None:
            return names
        names = []
        t = tp
        seen = set()
        while t and t not in seen and len(names) < 64:
            seen.add(t)
            names.append(self.mem.cstring(self.mem.u64(t + self.objects.tp["tp_name"]), 256))
            t = self.mem.u64(t + self.objects.tp["tp_base"])
        self._base_names[tp] = names
        return names

    def _is(self, addr, tp_name):
        return tp_name in self._type_chain(self.mem.u64(addr + self.objects.ob["ob_type"]))

    def type_name(self, addr):
        tp = self.mem.u64(addr + self.objects.ob["ob_type"])
        name = self._type_names.get(tp)
        if name is None:
            info = self.objects.type_info(tp)
            if info is None:
                return "?"
            try:
                name = self.objects.type_name_for_repr(tp, info)
            except DATA_ERRORS:
                name = info[1]
            self._type_names[tp] = name
        return name

    # ---------------------------------------------------------------- finding the tasks

    def _tasks_module(self):
        names = self.layout.names
        for interp in reversed(self.layout.runtime.interpreters()):
            mod = names._module(interp, "asyncio.tasks")
            if mod:
                return self.mem.u64(mod + self.objects.mo["md_dict"])
        return 0

    def task_addresses(self, tasks_dict, warn):
        out = []
        objects = self.objects
        for name in self.WEAK_SETS:
            wset = objects.dict_get_str(tasks_dict, name)
            if not wset:
                continue
            data = objects.instance_attr(wset, "data")
            if not data:
                warn("asyncio.tasks.%s: no data set" % name)
                continue
            for ref in objects._set_items(data):
                target = self.mem.u64(ref + self.wr["wr_object"])
                if target and target != objects.none_addr:
                    out.append(target)
        for name in self.PLAIN_SETS:
            s = objects.dict_get_str(tasks_dict, name)
            if s:
                out.extend(objects._set_items(s))
        return out[:MAX_TASKS]

    def tasks(self, warn, repr_of):
        """({"tasks": [...], "loops": [...]}) or None when asyncio was never imported."""
        tasks_dict = self._tasks_module()
        if not tasks_dict:
            return None
        try:
            self._setup()
        except (gdb.error, KeyError) as e:
            warn("asyncio is imported but its tasks cannot be read (no debug info for _asyncio?): %s" % e)
            return None
        out = []
        seen = set()
        for addr in self.task_addresses(tasks_dict, warn):
            if addr in seen:
                continue
            seen.add(addr)
            try:
                if not self._is(addr, "_asyncio.Task"):
                    warn("task 0x%x: a %s, not an _asyncio.Task: not read" % (addr, self.type_name(addr)))
                    continue
                out.append(self._task(addr, warn, repr_of))
            except DATA_ERRORS as e:
                warn("task 0x%x: unreadable: %s" % (addr, e))
        current = {}
        try:
            cur = self.objects.dict_get_str(tasks_dict, "_current_tasks")
            if cur:
                for k, v in self.objects.dict_items(cur):
                    current[k] = v
        except DATA_ERRORS as e:
            warn("asyncio.tasks._current_tasks: unreadable: %s" % e)
        loops = []
        for loop in sorted({t["loop"] for t in out if t["loop"]} | set(current)):
            loops.append(self._loop(loop, current.get(loop), warn, repr_of))
        return {"tasks": out, "loops": loops}

    # ---------------------------------------------------------------- one task

    def _flag(self, raw, name):
        off, bitpos, bitsize = self.flag_fields[name]
        if bitsize:
            return bool((struct.unpack_from("<I", raw, off)[0] >> bitpos) & ((1 << bitsize) - 1))
        return bool(i32_at(raw, off))

    def _task(self, addr, warn, repr_of):
        t = self.task
        raw = self.mem.read(addr, t.size)
        state = STATES.get(i32_at(raw, t["task_state"]), "unknown")
        exc = u64_at(raw, t["task_exception"])
        coro = u64_at(raw, t["task_coro"])
        waiter = u64_at(raw, t["task_fut_waiter"])
        name_obj = u64_at(raw, t["task_name"]) if t.has("task_name") else 0  # 3.8 named tasks
        name = self.objects.str_value(name_obj)
        if name is None and name_obj:
            name = repr_of(name_obj)  # a task named by an int (3.11 keeps the counter until asked)
        chain, awaitable = self.chain(coro, warn) if coro else ([], 0)
        return {
            "address": addr,
            "type": self.type_name(addr),
            "name": name,
            "state": state,
            "log_destroy_pending": self._flag(raw, "task_log_destroy_pending"),
            "must_cancel": self._flag(raw, "task_must_cancel"),
            "exception": self.exception_repr(exc, repr_of) if exc else None,
            "exception_retrieved": (not self._flag(raw, "task_log_tb")) if exc else None,
            "loop": u64_at(raw, t["task_loop"]),
            "coro": {"address": coro, "type": self.type_name(coro)} if coro else None,
            "fut_waiter": self.future(waiter, repr_of, 0) if waiter else None,
            "chain": chain,
            "awaitable": self.awaitable(awaitable, repr_of) if awaitable else None,
        }

    def exception_repr(self, exc, repr_of):
        """BaseException.__repr__: Name('arg') for one argument, Name(args...) otherwise."""
        try:
            tp = self.mem.u64(exc + self.objects.ob["ob_type"])
            tp_name = self.mem.cstring(self.mem.u64(tp + self.objects.tp["tp_name"]), 256)
            name = tp_name.rpartition(".")[2]
            args = self.mem.u64(exc + self.exc["args"])
            items = list(self.objects.tuple_items(args, 2)) if args else []
            if len(items) == 1:
                return "%s(%s)" % (name, repr_of(items[0]))
            inner = repr_of(args) if args else "()"
            return name + inner
        except DATA_ERRORS:
            return repr_of(exc)

    # ---------------------------------------------------------------- futures

    def future(self, addr, repr_of, depth):
        """What a task waits on: {"address", "type", "kind": task|gather|future|other, "state",
        "children" (a gather's)}."""
        out = {"address": addr, "type": self.type_name(addr), "kind": "other", "state": None, "children": None}
        try:
            if self._is(addr, "_asyncio.Task"):
                out["kind"] = "task"
            elif self._is(addr, "_asyncio.Future"):
                out["kind"] = "future"
            else:
                out["repr"] = repr_of(addr)
                return out
            out["state"] = STATES.get(self.mem.i32(addr + self.fut["fut_state"]), "unknown")
            if out["kind"] == "future" and depth < MAX_GATHER_DEPTH:
                children = self.objects.instance_attr(addr, "_children")
                if children:
                    d = self.objects.describe(children)
                    if d[0] in ("list", "tuple"):
                        out["kind"] = "gather"
                        out["children"] = [self.future(c, repr_of, depth + 1) for c in list(d[1])[:MAX_CHILDREN]]
        except DATA_ERRORS:
            pass
        return out

    def awaitable(self, addr, repr_of):
        """The innermost thing a coroutine chain awaits that is not itself a coroutine."""
        out = {"address": addr, "type": self.type_name(addr), "future": None}
        try:
            if self._is(addr, "_asyncio.FutureIter"):
                fut = self.mem.u64(addr + self.fiter["future"])
                if fut:
                    out["future"] = self.future(fut, repr_of, MAX_GATHER_DEPTH)
            else:
                out["repr"] = repr_of(addr)
        except DATA_ERRORS:
            pass
        return out

    # ---------------------------------------------------------------- coroutine chains

    def chain(self, coro, warn):
        """([frame...], innermost awaitable or 0): the coroutines from the task's down, each
        with its frame as the frames feature reads one ("locals" as (name, kind, address))."""
        chain = []
        obj = coro
        seen = set()
        ob_type = self.objects.ob["ob_type"]
        while obj and obj not in seen and len(chain) < MAX_CHAIN:
            seen.add(obj)
            kind = self.gen_types.get(self.mem.u64(obj + ob_type))
            if kind is None:
                return chain, obj
            step = self.coroutine_frame(obj)
            if step is None:
                return chain, 0
            frame, state, awaited = step
            del frame["is_entry"]
            del frame["block_values"]
            frame["kind"] = kind
            frame["frame_state"] = state
            frame["address"] = obj
            frame["timer_when"] = self.timer_when(frame)
            chain.append(frame)
            obj = awaited
        return chain, 0

    def coroutine_frame(self, gen):
        """(frame, "created" | "running" | "suspended", what it awaits or 0) of a coroutine or
        generator whose frame has not completed, else None."""
        state = struct.unpack("<b", self.mem.read(gen + self.gen["gi_frame_state"], 1))[0]
        if state >= self.FRAME_COMPLETED:
            return None
        iframe = gen + self.gen["gi_iframe"]
        raw = self.mem.read(iframe, self.fr.size)
        info = self.frames._code(u64_at(raw, self.fr[self.CODE_FIELD]))
        # A coroutine's with blocks are not read for tasks (blocks=False).
        frame = self.frames._frame(iframe, raw, info, u64_at(raw, self.fr[self.INSTR_FIELD]), blocks=False)
        return frame, self.state_name(state), self.yield_from(state, iframe, raw)

    def timer_when(self, frame):
        """The loop time asyncio.sleep's timer is due at (its call_later TimerHandle, the local
        `h`), or None. Other frames are not looked at: a type check of every local of every
        coroutine of thousands of tasks cost more than the rest of their reading."""
        if frame["function"] != "sleep" or not frame["file"].endswith("asyncio/tasks.py"):
            return None
        for _name, _kind, addr in frame["locals"]:
            try:
                if not self._is(addr, "TimerHandle"):
                    continue
                d = self.objects.describe(self.slot_attr(addr, "_when"))
                if d[0] in ("float", "int"):
                    return d[1]
            except DATA_ERRORS:
                continue
        return None

    def slot_attr(self, addr, name):
        """An attribute kept in a __slots__ slot (TimerHandle's _when): the member descriptor in
        the class's dict says at which offset of the instance; 0 when there is none."""
        tp = self.mem.u64(addr + self.objects.ob["ob_type"])
        key = (tp, name)
        offset = self._slot_offsets.get(key)
        if offset is None:
            offset = self._slot_offsets[key] = self._slot_offset(tp, name)
        return self.mem.u64(addr + offset) if offset else 0

    def _slot_offset(self, tp, name):
        """Where instances of tp keep slot `name` (0: nowhere known)."""
        objects = self.objects
        seen = set()
        while tp and tp not in seen and len(seen) < 64:
            seen.add(tp)
            descr = objects.dict_get_str(self.mem.u64(tp + objects.tp["tp_dict"]), name)
            if descr:
                if self.member_descr is None:
                    self.member_descr = (CStruct("PyMemberDescrObject")["d_member"], CStruct("PyMemberDef")["offset"])
                member = self.mem.u64(descr + self.member_descr[0])
                offset = self.mem.i64(member + self.member_descr[1])
                return offset if 0 < offset < 1 << 16 else 0
            tp = self.mem.u64(tp + objects.tp["tp_base"])
        return 0

    def state_name(self, state):
        if state == self.FRAME_CREATED:
            return "created"
        if state == self.FRAME_EXECUTING:
            return "running"
        return "suspended"

    def yield_from(self, state, iframe, raw):
        """_PyGen_yf (3.11): the object a suspended frame awaits, or 0."""
        if state != self.FRAME_SUSPENDED:
            return 0
        instr = u64_at(raw, self.fr[self.INSTR_FIELD])
        unit = struct.unpack("<H", self.mem.read(instr + 2, 2))[0]
        opcode, oparg = unit & 0xFF, unit >> 8
        if self.deopt is not None:
            opcode = self.deopt[opcode]
        if opcode not in self.RESUME_OPCODES or oparg < 2:
            return 0
        return self.stack_top(iframe, raw)

    def stack_top(self, iframe, raw):
        stacktop = i32_at(raw, self.fr["stacktop"])
        if not 0 < stacktop < 1 << 20:
            return 0
        return self.mem.u64(iframe + self.fr["localsplus"] + PTR * (stacktop - 1))

    # ---------------------------------------------------------------- executors

    def executor_futures(self, frames_by_lwp):
        """{asyncio future: LWP of the thread that runs its work}: loop.run_in_executor() wraps
        the executor's concurrent Future in an asyncio Future (asyncio.futures._chain_future): the
        concurrent one's done callback is a closure over the asyncio one. A worker thread running
        an item has _WorkItem.run (concurrent/futures/thread.py) on its stack, `self` the item."""
        objects = self.objects
        out = {}
        for lwp, frames in frames_by_lwp.items():
            for fr in frames:
                if fr["function"] != "run" or not fr["file"].endswith("concurrent/futures/thread.py"):
                    continue
                item = next((a for n, _k, a in fr["locals"] if n == "self"), 0)
                try:
                    cf = objects.instance_attr(item, "future") if item else 0
                    callbacks = objects.describe(objects.instance_attr(cf, "_done_callbacks")) if cf else ("none",)
                    for fn in callbacks[1] if callbacks[0] == "list" else ():
                        for fut in self._closure_futures(fn):
                            out[fut] = lwp
                except DATA_ERRORS:
                    continue
        return out

    def _closure_futures(self, fn):
        """The asyncio Futures among the cells a function closes over."""
        objects = self.objects
        if objects.describe(fn)[0] != "function":
            return []
        closure = self.mem.u64(fn + objects.fn["func_closure"])
        cells = objects.tuple_items(closure, 64) if closure else ()
        return [c for c in (objects.cell_contents(cell) for cell in cells) if c and self._is(c, "_asyncio.Future")]

    # ---------------------------------------------------------------- loops

    def _loop(self, loop, current, warn, repr_of):
        objects = self.objects
        out = {"address": loop, "type": self.type_name(loop), "thread_ident": None, "ready": None, "scheduled": None,
               "stopping": None, "closed": None, "current_task": current or None, "repr": repr_of(loop)}
        try:
            d = objects.describe(objects.instance_attr(loop, "_thread_id"))
            if d[0] == "int":
                out["thread_ident"] = d[1]
            ready = objects.instance_attr(loop, "_ready")
            if ready:
                out["ready"] = self.mem.i64(ready + objects.var["ob_size"])
            scheduled = objects.instance_attr(loop, "_scheduled")
            if scheduled and objects.describe(scheduled)[0] == "list":
                out["scheduled"] = objects._size(scheduled)
            for key, attr in (("stopping", "_stopping"), ("closed", "_closed")):
                d = objects.describe(objects.instance_attr(loop, attr))
                if d[0] == "bool":
                    out[key] = d[1]
        except DATA_ERRORS as e:
            warn("event loop 0x%x: unreadable: %s" % (loop, e))
        return out


class Tasks39(Tasks311):
    """3.7 to 3.9: a coroutine's frame is a PyFrameObject of its own (gi_frame, NULL once it has
    finished), read as the frames feature reads a thread's; it is running while gi_running is set,
    not started while f_lasti is -1, and otherwise suspended with its value stack's top at
    f_stacktop. _PyGen_yf: it awaits the top of that stack when the instruction after f_lasti (a
    byte offset) is YIELD_FROM. Tasks are named from 3.8 on (task_name)."""
    # Include/opcode.h (3.7 to 3.10)
    YIELD_FROM = 72
    CODE_UNIT = 2

    def _setup_frames(self):
        self.fo = self.frames.fo
        self.co_code = self.frames.co["co_code"]
        self.sval = CStruct("PyBytesObject")["ob_sval"]

    def coroutine_frame(self, gen):
        f = self.mem.u64(gen + self.gen["gi_frame"])
        if not f:
            return None
        raw = self.mem.read(f, self.fo.size)
        info = self.frames._code(u64_at(raw, self.fo["f_code"]))
        state = self.frame_state(gen, raw)
        if state is None:
            return None
        frame = self.frames._frame(f, raw, info)
        return frame, state, self.yield_from_frame(f, raw, info) if state == "suspended" else 0

    def frame_state(self, gen, raw):
        if self.mem.read(gen + self.gen["gi_running"], 1)[0]:
            return "running"
        if i32_at(raw, self.fo["f_lasti"]) < 0:
            return "created"
        return "suspended" if u64_at(raw, self.fo["f_stacktop"]) else None

    def _next_is_yield_from(self, info, lasti_byte):
        if lasti_byte < 0:
            return False
        code = self.mem.u64(info["addr"] + self.co_code)
        return self.mem.read(code + self.sval + lasti_byte + self.CODE_UNIT, 1)[0] == self.YIELD_FROM

    def yield_from_frame(self, f, raw, info):
        if not self._next_is_yield_from(info, i32_at(raw, self.fo["f_lasti"])):
            return 0
        return self.mem.u64(u64_at(raw, self.fo["f_stacktop"]) - PTR)


class Tasks310(Tasks39):
    """3.10: the frame says its state (f_state, 3.11's numbers); f_lasti counts code units; the
    value stack's depth is f_stackdepth above f_valuestack."""

    def frame_state(self, gen, raw):
        state = struct.unpack_from("<b", raw, self.fo["f_state"])[0]
        return None if state >= self.FRAME_COMPLETED else self.state_name(state)

    def yield_from_frame(self, f, raw, info):
        if not self._next_is_yield_from(info, i32_at(raw, self.fo["f_lasti"]) * self.CODE_UNIT):
            return 0
        depth = i32_at(raw, self.fo["f_stackdepth"])
        if not 0 < depth < 1 << 20:
            return 0
        return self.mem.u64(u64_at(raw, self.fo["f_valuestack"]) + PTR * (depth - 1))


class Tasks312(Tasks311):
    """3.12: frames and their states as 3.11 (f_code, prev_instr; _PyGen_yf looks at the
    instruction after prev_instr, RESUME or INSTRUMENTED_RESUME with oparg >= 2), but the tasks
    are in two sets as in 3.13 (eager tasks came in 3.12): _scheduled_tasks (a WeakSet) and
    _eager_tasks (a set)."""
    WEAK_SETS = ("_scheduled_tasks",)
    PLAIN_SETS = ("_eager_tasks",)
    # Include/opcode.h (3.12): a RESUME may be instrumented (by sys.monitoring).
    RESUME_OPCODES = (Tasks311.RESUME, 240)


class Tasks313(Tasks311):
    """3.13: the frame's code is f_executable and its place instr_ptr; a frame suspended in an
    await says so in its state (FRAME_SUSPENDED_YIELD_FROM); tasks are in two sets, the
    scheduled ones (a WeakSet) and the eager ones (a set); the task's flags are bit fields."""
    FRAME_CREATED = -3
    FRAME_SUSPENDED = -2
    FRAME_SUSPENDED_YIELD_FROM = -1
    CODE_FIELD = "f_executable"
    INSTR_FIELD = "instr_ptr"
    WEAK_SETS = ("_scheduled_tasks",)
    PLAIN_SETS = ("_eager_tasks",)

    def yield_from(self, state, iframe, raw):
        return self.stack_top(iframe, raw) if state == self.FRAME_SUSPENDED_YIELD_FROM else 0


def _member_bits(t, name):
    """(byte offset, bit position in the 32-bit word there, bit size; 0 for a whole int) of a member."""
    for f in t.strip_typedefs().fields():
        if f.name == name:
            if f.bitsize:
                return (f.bitpos // 32) * 4, f.bitpos % 32, f.bitsize
            return f.bitpos // 8, 0, 0
    raise KeyError("%s has no member %s" % (t, name))
