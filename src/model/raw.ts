// The wire contract between the gdb-side script (src/extract/gdb) and the TypeScript side: the one
// JSON document gdb writes per core. It is checked when read (checkExtraction), so a document the
// script did not promise is one clear error naming the core, not a crash deep in a walker.
/** What the gdb-side script prints: one JSON document per core. */
export interface RawExtraction {
  format: 1;
  python: RawPython;
  threads: RawThread[];
  /** Where the heap is and how to read it: the census walks it from the core file itself. */
  heap?: RawHeap | null;
  /**
   * The asyncio tasks asyncio keeps (finished ones too, while referenced): null when this
   * version's tasks are not read, or asyncio was never imported; absent in older documents.
   */
  tasks?: RawTask[] | null;
  /** The event loops of those tasks. */
  loops?: RawLoop[] | null;
  /** Problems that did not stop the extraction (unreadable frame, corrupt object...). */
  warnings: string[];
}

export interface RawTask {
  address: number;
  /** The task's class, e.g. "_asyncio.Task". */
  type: string;
  name: string | null;
  /** "pending" | "cancelled" | "finished" */
  state: string;
  log_destroy_pending: boolean;
  must_cancel: boolean;
  /** repr of the exception a finished task ended with, as BaseException.__repr__ writes it. */
  exception: string | null;
  /** Whether result() or exception() read it (the task's log_tb flag is clear); null without one. */
  exception_retrieved: boolean | null;
  loop: number;
  coro: { address: number; type: string } | null;
  /** The future the task waits on (its _fut_waiter), null while it is ready to run or done. */
  fut_waiter: RawFuture | null;
  /** The coroutines from the task's own down to the innermost, outermost first. */
  chain: RawTaskFrame[];
  /** What the innermost coroutine awaits that is not a coroutine (a FutureIter and its future). */
  awaitable: { address: number; type: string; future: RawFuture | null; repr?: string } | null;
}

export interface RawFuture {
  address: number;
  type: string;
  /** "task" | "gather" (a _GatheringFuture: its children) | "future" | "other" */
  kind: string;
  state: string | null;
  children: RawFuture[] | null;
  repr?: string;
  /** The LWP of the executor thread running the work behind it (run_in_executor); absent in older documents. */
  executor_lwp?: number | null;
}

export interface RawTaskFrame {
  function: string;
  file: string;
  line: number;
  locals: RawLocal[];
  /** "coroutine" | "generator" | "async_generator" */
  kind: string;
  /** "created" | "suspended" | "running" */
  frame_state: string;
  /** The coroutine (or generator) object. */
  address: number;
  /** The loop time a TimerHandle among the locals is due at (asyncio.sleep's), or null. */
  timer_when: number | null;
}

export interface RawLoop {
  address: number;
  type: string;
  repr: string;
  /** threading.get_ident() of the thread running it (the loop's _thread_id), null when none runs it. */
  thread_ident: number | null;
  /** The LWP of that thread (by its ident, or by a _run_once / run_forever frame of this loop). */
  thread_lwp: number | null;
  /** Ready callbacks (len(_ready)) and timers (len(_scheduled)). */
  ready: number | null;
  scheduled: number | null;
  stopping: boolean | null;
  closed: boolean | null;
  /** The task whose step the loop is running (asyncio.tasks._current_tasks), or null. */
  current_task: number | null;
  /** The loop's time() when _run_once last computed its select timeout (when - timeout), or null. */
  select_started_at: number | null;
}

export interface RawPython {
  /** "3.11.2" */
  version: string;
  hexversion: number;
  /** Which layout module of the gdb script read this interpreter, e.g. "cpython-3.11". */
  layout: string;
  /** Address of the thread state holding the GIL, 0 when nobody holds it. */
  gil_holder: number;
  gil_locked: boolean;
  /** sys.orig_argv as the interpreter kept it (the core's own note keeps at most 80 bytes). */
  argv?: string[] | null;
}

export interface RawThread {
  /** gdb's thread number (1-based). */
  num: number;
  /** Kernel thread id (LWP). */
  lwp: number;
  /** pthread_t / threading.get_ident(), when a PyThreadState was found for this LWP. */
  ident: number | null;
  /** Name from threading._active, when there is one. */
  name: string | null;
  /** Address of the threading.Thread object, when the thread has one. */
  thread_object?: number | null;
  holds_gil: boolean;
  /** Innermost first. */
  native_frames: RawNativeFrame[];
  /** Innermost first. */
  python_frames: RawPythonFrame[];
  /** Lock-like objects this thread is blocked on, read from the native frames' arguments. */
  waits_on: RawLockWait | null;
  /** The locks its frames' `with` blocks hold, innermost frame first; absent in older documents. */
  held_locks?: RawHeldLock[] | null;
}

/** A lock a `with` block holds: the lock's own (`with lock:`), a Condition's (`with cond:`), or one a @contextmanager holds (`with locked():`). */
export interface RawHeldLock {
  /** The lock object (_thread.lock, _thread.RLock; 2.7: thread.lock, threading._RLock). */
  address: number;
  /** "lock" | "rlock" */
  kind: string;
  /** Index into python_frames of the frame whose with block holds it. */
  frame: number;
  /** The Condition the with statement names, whose lock this is; null for the lock itself. */
  condition: number | null;
  /** The @contextmanager function whose generator, paused at its yield, holds it in a with block of its own; null when none. Absent in older documents. */
  context?: string | null;
  /** Whether the thread gave it up while it waits in that Condition's wait() (it takes it again when notified). */
  released: boolean;
}

export interface RawNativeFrame {
  function: string | null;
  library: string | null;
  file: string | null;
  line: number | null;
  pc: number;
}

export interface RawPythonFrame {
  function: string;
  file: string;
  line: number;
  /** Index into native_frames of the _PyEval_EvalFrameDefault that runs this frame, -1 if unknown. */
  native_index: number;
  /** Whether this frame was entered from C (the boundary between two _PyEval_EvalFrameDefault calls). */
  is_entry: boolean;
  locals: RawLocal[];
}

export interface RawLocal {
  name: string;
  /** "arg" | "local" | "cell" | "free" */
  kind: string;
  repr: string;
}

export interface RawLockWait {
  /** "lock" (_thread.lock) | "rlock" (_thread.RLock) | "semaphore" | "other" */
  kind: string;
  address: number;
  /** For an RLock: the ident (pthread_t) of the thread that owns it, 0 when free. */
  owner_ident: number | null;
  /** For an RLock: recursion count. */
  count: number | null;
  /** The Condition whose wait() blocks on this (its waiter lock, released by notify), or null; absent in older documents. */
  condition?: number | null;
}

/** The version of the heap record below; a record of another version is refused, not guessed at. */
export const HEAP_LAYOUT_VERSION = 1;

/**
 * Where the heap is and how to read it: offsets from DWARF, and the rules DWARF cannot give
 * (flags, encodings, allocator constants) from the gdb-side module of the interpreter's version.
 * Everything the TypeScript walkers know about CPython's layout comes from here.
 */
export interface RawHeap {
  layout_version: number;
  object: { refcnt: number; type: number; size: number };
  gc_head_size: number;
  /**
   * An object is GC-tracked when the signed word at its address + offset, shifted right by `shift`,
   * is not `untracked` (3.8 on: _gc_next is 0; before: gc_refs is _PyGC_REFS_UNTRACKED, -2).
   */
  tracked: { offset: number; untracked: number; shift: number };
  /** Instances of types with any of `flags` carry a pre-header before the GC head. */
  managed: {
    flags: number;
    pre_header_size: number;
    /** Where such an instance's dict pointer is, relative to the object (null: none there). */
    dict_offset: number | null;
    /** Where its attribute values are when no dict holds them (null: always in a dict). */
    values: ManagedValues | null;
  };
  /** An int's digit count: signed ? |i64| : u64 >> shift, at size_offset; at least min_digits. */
  int: { size_offset: number; shift: number; signed: boolean; min_digits: number };
  flags: Record<'managed_dict' | 'heaptype' | 'have_gc' | 'long_subclass' | 'list_subclass' | 'tuple_subclass' | 'bytes_subclass' | 'unicode_subclass' | 'dict_subclass' | 'type_subclass', number>;
  str: RawStr;
  list: { allocated: number; ob_item: number };
  /** ma_keys and ma_values are null where the dict holds its table itself (dict_keys.format 'table'). */
  dict: { ma_keys: number | null; ma_values: number | null; ma_used: number };
  dict_keys: RawDictKeys;
  set: { mask: number; table: number; smalltable: number; entry: number };
  bytearray: { alloc: number; bytes: number };
  tuple: { items: number };
  cell: { ref: number };
  /** md_dict and md_name; name is null where a module keeps its name only in its dict, as __name__ (2.7). */
  module: { dict: number; name: number | null };
  types: RawType[];
  static_regions: { start: number; size: number }[];
  pymalloc: RawPymalloc | null;
  gc: RawGc | null;
  glibc: RawGlibc | null;
  /**
   * 2.7's old-style classes: every instance is of type `instance` and names its class at
   * class_offset; the census names those of these classes by their class.
   */
  old_style?: { instance_type: number; class_offset: number; classes: { address: number; name: string; module: string | null }[] } | null;
}

/**
 * Where a managed instance's attribute values are:
 * - 'pre-header' (3.11): a pointer to a values array at `offset` from the object;
 * - 'tagged' (3.12): the word at `offset` is the values array's address - 1 when its low bit is
 *   set, else the dict's address;
 * - 'inline' (3.13): for types with `flags`, the values follow the object (at tp_basicsize): a
 *   header of `header` bytes whose byte `valid` says whether they are in use and whose byte
 *   `capacity` says how many pointers follow, then the pointers, then the insertion order (one byte
 *   a slot, rounded up to 8). The allocation was sized for `capacity` slots, or for one more when
 *   the class's shared keys still shrank as it was made (_PyObject_InitInlineValues takes a slot
 *   off them after _PyType_AllocNoTrack sized the object): a reader accepts either.
 */
export type ManagedValues =
  | { kind: 'pre-header'; offset: number }
  | { kind: 'tagged'; offset: number }
  | { kind: 'inline'; flags: number; header: number; valid: number; capacity: number };

/**
 * How a str's size and text are read:
 * - 'pep393' (3.3 on): compact strs carry their text after the object; the state word's bit
 *   fields (kind, compact, ascii: [first bit, width]) say where and how wide;
 * - 'py2' (2.7): `unicode` keeps its text in a buffer of (length + 1) * char_size bytes that
 *   `buffer` points at; names and dict keys are 2.7 `str` (bytes), text at `bytes_data`.
 */
export type RawStr =
  | {
    format: 'pep393';
    ascii_size: number; compact_size: number; unicode_size: number; length: number; state: number;
    kind: [number, number]; compact: [number, number]; ascii: [number, number];
  }
  | { format: 'py2'; length: number; buffer: number; char_size: number; bytes_data: number };

/**
 * A dict's key table:
 * - 'log2' (3.11 on): dk_log2_size, dk_log2_index_bytes, dk_kind (general or unicode-keyed entries);
 * - 'sized' (3.6 to 3.10): dk_size slots, indices of 1, 2, 4 or 8 bytes by size, general entries;
 * - 'table' (2.7): no key object; the dict's own table of mask + 1 entries (ma_smalltable when small).
 * USABLE_FRACTION: a table of n slots holds floor(n * usable_num / usable_den) entries.
 */
export type RawDictKeys =
  | {
    format: 'log2';
    header_size: number; log2_size: number; log2_index_bytes: number; kind: number; nentries: number;
    entry_general: number; entry_unicode: number;
    key_general: number; value_general: number; key_unicode: number; value_unicode: number;
    usable_num: number; usable_den: number;
  }
  | {
    format: 'sized';
    header_size: number; size: number; nentries: number;
    entry_general: number; key_general: number; value_general: number;
    usable_num: number; usable_den: number;
  }
  | { format: 'table'; mask: number; table: number; smalltable: number; entry: number; key: number; value: number };

export interface RawType {
  address: number;
  /** tp_name for static types; the qualified name for classes. */
  name: string;
  /** __module__ of a class; null for static types. */
  module: string | null;
  basicsize: number;
  itemsize: number;
  flags: number;
  /** For classes whose instances keep attributes in a managed values array: its size in bytes. */
  values_size: number;
  /** ... and how many attribute slots it has. */
  values_count: number;
  /** tp_dictoffset: where an instance's __dict__ pointer is (0: none, or managed). */
  dictoffset: number;
  /** Offsets of the object references __slots__ add. */
  slots: number[];
}

export interface RawPymalloc {
  /** ALIGNMENT and SMALL_REQUEST_THRESHOLD of obmalloc, and the size classes they make. */
  alignment: number;
  threshold: number;
  size_classes: number;
  arenas: number;
  maxarenas: number;
  arena_size: number;
  pool_size: number;
  pool_overhead: number;
  arena_object: { sizeof: number; address: number; pool_address: number; nfreepools: number; ntotalpools: number };
  pool_header: { size: number; count: number; freeblock: number; arenaindex: number; szidx: number; nextoffset: number; maxnextoffset: number };
}

export interface RawGc {
  enabled: boolean;
  collecting: boolean;
  generations: { head: number; threshold: number; count: number }[];
  permanent: number;
  garbage: number;
}

export interface RawGlibc {
  main_arena: number;
  mp: number;
  /** Hex text: a 64-bit random value. */
  tcache_key: string | null;
  /** Whether free-list links are mangled (safe-linking, glibc 2.32 on): fd = pointer ^ (its own address >> 12). */
  safe_linking: boolean;
  malloc_state: { sizeof: number; top: number; next: number; system_mem: number; fastbinsY: number; bins: number };
  malloc_par: { sizeof: number; sbrk_base: number; n_mmaps: number; mmapped_mem: number; mmap_threshold: number };
  heap_info: { sizeof: number; ar_ptr: number; prev: number; size: number };
  heap_max: number;
}

/** The document's format number; the script writes it, and any other is refused. */
export const EXTRACTION_FORMAT = 1;

// A shape is a type name, an object of shapes, a one-element array (every item has that shape), or
// nullable(shape). Only what the walkers rely on is listed: extra keys are allowed.
// variants(key, {value: shape}): an object whose `key` names which shape the rest has.
type Shape = 'number' | 'string' | 'boolean' | 'any' | { [key: string]: Shape } | [Shape] | { nullable: Shape } | Variants;
interface Variants { variants: { key: string; shapes: Record<string, Shape> } }
const nullable = (shape: Shape): Shape => ({ nullable: shape });
const variants = (key: string, shapes: Record<string, Shape>): Shape => ({ variants: { key, shapes } });
const numbers = (...keys: string[]): Record<string, Shape> => Object.fromEntries(keys.map((k) => [k, 'number']));

const THREAD: Shape = {
  num: 'number', lwp: 'number', ident: nullable('number'), name: nullable('string'), holds_gil: 'boolean',
  native_frames: [{ function: nullable('string'), library: nullable('string'), file: nullable('string'), line: nullable('number'), pc: 'number' }],
  python_frames: [{ function: 'string', file: 'string', line: 'number', native_index: 'number', is_entry: 'boolean', locals: [{ name: 'string', kind: 'string', repr: 'string' }] }],
  waits_on: nullable({ kind: 'string', address: 'number', owner_ident: nullable('number'), count: nullable('number'), condition: nullable('number') }),
  held_locks: nullable([{ address: 'number', kind: 'string', frame: 'number', condition: nullable('number'), context: nullable('string'), released: 'boolean' }]),
};

const FUTURE: Shape = { address: 'number', type: 'string', kind: 'string', state: nullable('string'), children: nullable(['any']) };

const TASK: Shape = {
  address: 'number', type: 'string', name: nullable('string'), state: 'string', log_destroy_pending: 'boolean', must_cancel: 'boolean',
  exception: nullable('string'), exception_retrieved: nullable('boolean'), loop: 'number',
  coro: nullable({ address: 'number', type: 'string' }),
  fut_waiter: nullable(FUTURE),
  chain: [{
    function: 'string', file: 'string', line: 'number', locals: [{ name: 'string', kind: 'string', repr: 'string' }],
    kind: 'string', frame_state: 'string', address: 'number', timer_when: nullable('number'),
  }],
  awaitable: nullable({ address: 'number', type: 'string', future: nullable(FUTURE) }),
};

const LOOP: Shape = {
  address: 'number', type: 'string', repr: 'string', thread_ident: nullable('number'), thread_lwp: nullable('number'),
  ready: nullable('number'), scheduled: nullable('number'), stopping: nullable('boolean'), closed: nullable('boolean'),
  current_task: nullable('number'), select_started_at: nullable('number'),
};

const HEAP: Shape = {
  layout_version: 'number',
  object: numbers('refcnt', 'type', 'size'),
  gc_head_size: 'number',
  tracked: numbers('offset', 'untracked', 'shift'),
  managed: {
    flags: 'number', pre_header_size: 'number', dict_offset: nullable('number'),
    values: nullable(variants('kind', { 'pre-header': numbers('offset'), tagged: numbers('offset'), inline: numbers('flags', 'header', 'valid', 'capacity') })),
  },
  int: { size_offset: 'number', shift: 'number', signed: 'boolean', min_digits: 'number' },
  flags: numbers('managed_dict', 'heaptype', 'have_gc', 'long_subclass', 'list_subclass', 'tuple_subclass', 'bytes_subclass', 'unicode_subclass', 'dict_subclass', 'type_subclass'),
  str: variants('format', {
    pep393: { ...numbers('ascii_size', 'compact_size', 'unicode_size', 'length', 'state'), kind: ['number'], compact: ['number'], ascii: ['number'] },
    py2: numbers('length', 'buffer', 'char_size', 'bytes_data'),
  }),
  list: numbers('allocated', 'ob_item'),
  dict: { ma_keys: nullable('number'), ma_values: nullable('number'), ma_used: 'number' },
  dict_keys: variants('format', {
    log2: numbers('header_size', 'log2_size', 'log2_index_bytes', 'kind', 'nentries', 'entry_general', 'entry_unicode',
      'key_general', 'value_general', 'key_unicode', 'value_unicode', 'usable_num', 'usable_den'),
    sized: numbers('header_size', 'size', 'nentries', 'entry_general', 'key_general', 'value_general', 'usable_num', 'usable_den'),
    table: numbers('mask', 'table', 'smalltable', 'entry', 'key', 'value'),
  }),
  set: numbers('mask', 'table', 'smalltable', 'entry'),
  bytearray: numbers('alloc', 'bytes'),
  tuple: numbers('items'),
  cell: numbers('ref'),
  module: { dict: 'number', name: nullable('number') },
  types: [{ address: 'number', name: 'string', module: nullable('string'), ...numbers('basicsize', 'itemsize', 'flags', 'values_size', 'values_count', 'dictoffset'), slots: ['number'] }],
  static_regions: [numbers('start', 'size')],
  pymalloc: nullable({
    ...numbers('alignment', 'threshold', 'size_classes', 'arenas', 'maxarenas', 'arena_size', 'pool_size', 'pool_overhead'),
    arena_object: numbers('sizeof', 'address', 'pool_address', 'nfreepools', 'ntotalpools'),
    pool_header: numbers('size', 'count', 'freeblock', 'arenaindex', 'szidx', 'nextoffset', 'maxnextoffset'),
  }),
  gc: nullable({ enabled: 'boolean', collecting: 'boolean', generations: [numbers('head', 'threshold', 'count')], permanent: 'number', garbage: 'number' }),
  glibc: nullable({
    main_arena: 'number', mp: 'number', tcache_key: nullable('string'), safe_linking: 'boolean',
    malloc_state: numbers('sizeof', 'top', 'next', 'system_mem', 'fastbinsY', 'bins'),
    malloc_par: numbers('sizeof', 'sbrk_base', 'n_mmaps', 'mmapped_mem', 'mmap_threshold'),
    heap_info: numbers('sizeof', 'ar_ptr', 'prev', 'size'),
    heap_max: 'number',
  }),
  old_style: nullable({ instance_type: 'number', class_offset: 'number', classes: [{ address: 'number', name: 'string', module: nullable('string') }] }),
};

const EXTRACTION: Shape = {
  format: 'number',
  python: { version: 'string', hexversion: 'number', layout: 'string', gil_holder: 'number', gil_locked: 'boolean', argv: nullable(['string']) },
  threads: [THREAD],
  heap: nullable(HEAP),
  tasks: nullable([TASK]),
  loops: nullable([LOOP]),
  warnings: ['string'],
};

/**
 * The first way `value` does not have `shape`, as "path: what" with the path relative to value
 * (".key", "[i]" and so on), or null. The path is built only on the way back from a mismatch:
 * a document with thousands of tasks is checked without a string per node.
 */
function mismatch(value: unknown, shape: Shape): string | null {
  if (typeof shape === 'string') {
    if (shape === 'any' || typeof value === shape) return null;
    return `: ${value === undefined ? 'missing' : `a ${value === null ? 'null' : typeof value}, not a ${shape}`}`;
  }
  if ('nullable' in shape && Object.keys(shape).length === 1) {
    return value === null || value === undefined ? null : mismatch(value, shape.nullable);
  }
  if ('variants' in shape && Object.keys(shape).length === 1) {
    const { key, shapes } = (shape as Variants).variants;
    const which = (value as Record<string, unknown> | null)?.[key];
    const sub = typeof which === 'string' && Object.hasOwn(shapes, which) ? shapes[which] : undefined;
    if (!sub) return `.${key}: ${JSON.stringify(which ?? null)}, not one of ${Object.keys(shapes).join(', ')}`;
    return mismatch(value, sub);
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return `: ${value === undefined ? 'missing' : 'not a list'}`;
    for (let i = 0; i < value.length; i++) {
      const m = mismatch(value[i], shape[0]);
      if (m) return `[${i}]${m}`;
    }
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `: ${value === undefined ? 'missing' : 'not an object'}`;
  for (const key in shape) {
    const m = mismatch((value as Record<string, unknown>)[key], (shape as Record<string, Shape>)[key]!);
    if (m) return `.${key}${m}`;
  }
  return null;
}

/** mismatch's answer as "path: what" from the document's top ("threads[3].lwp: missing"). */
function located(m: string | null): string | null {
  return m === null ? null : m.startsWith('.') ? m.slice(1) : `the document${m}`;
}

/**
 * The problem with a document gdb wrote, in words, or null when it is what the script promises:
 * its format, every key the pipeline reads, and the heap record's version.
 */
export function extractionProblem(doc: unknown): string | null {
  const format = (doc as { format?: unknown } | null)?.format;
  if (format !== EXTRACTION_FORMAT) return `format ${JSON.stringify(format)}, expected ${EXTRACTION_FORMAT}`;
  const version = (doc as { heap?: { layout_version?: unknown } | null }).heap?.layout_version;
  if (version !== undefined && version !== HEAP_LAYOUT_VERSION) return `heap layout version ${JSON.stringify(version)}, expected ${HEAP_LAYOUT_VERSION}`;
  return located(mismatch(doc, EXTRACTION));
}

/** The problem with a stored heap record (a dump's heap_layout), or null. */
export function heapLayoutProblem(heap: unknown): string | null {
  const version = (heap as { layout_version?: unknown } | null)?.layout_version;
  if (version !== HEAP_LAYOUT_VERSION) return `heap layout version ${JSON.stringify(version ?? null)}, expected ${HEAP_LAYOUT_VERSION}`;
  const m = mismatch(heap, HEAP);
  return m === null ? null : `heap${m}`;
}
