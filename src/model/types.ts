// The data types of coroner, defined once and passed along the pipeline:
// core file -> gdb extraction (Raw*) -> model (Dump) -> store -> show / report.

/** What the gdb-side script prints: one JSON document per core. */
export interface RawExtraction {
  format: 1;
  python: RawPython;
  threads: RawThread[];
  /** Where the heap is and how to read it: the census walks it from the core file itself. */
  heap?: RawHeap | null;
  /** Problems that did not stop the extraction (unreadable frame, corrupt object...). */
  warnings: string[];
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
}

/** Offsets and addresses the gdb-side script read from DWARF and symbols, for the census walk. */
export interface RawHeap {
  object: { refcnt: number; type: number; size: number };
  gc_head_size: number;
  pre_header_size: number;
  flags: Record<'managed_dict' | 'heaptype' | 'have_gc' | 'long_subclass' | 'list_subclass' | 'tuple_subclass' | 'bytes_subclass' | 'unicode_subclass' | 'dict_subclass' | 'type_subclass', number>;
  str: { ascii_size: number; compact_size: number; unicode_size: number; length: number; state: number; kind: [number, number]; compact: [number, number]; ascii: [number, number] };
  list: { allocated: number; ob_item: number };
  dict: { ma_keys: number; ma_values: number };
  dict_keys: { header_size: number; log2_size: number; log2_index_bytes: number; kind: number; nentries: number; entry_general: number; entry_unicode: number };
  set: { mask: number; table: number; smalltable: number; entry: number };
  bytearray: { alloc: number; bytes: number };
  tuple: { items: number };
  cell: { ref: number };
  module: { dict: number; name: number };
  types: RawType[];
  static_regions: { start: number; size: number }[];
  pymalloc: RawPymalloc | null;
  gc: RawGc | null;
  glibc: RawGlibc | null;
}

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
  malloc_state: { sizeof: number; top: number; next: number; system_mem: number; fastbinsY: number; bins: number };
  malloc_par: { sizeof: number; sbrk_base: number; n_mmaps: number; mmapped_mem: number; mmap_threshold: number };
  heap_info: { sizeof: number; ar_ptr: number; prev: number; size: number };
  heap_max: number;
}

/** One row of the census: the live objects of one type. */
export interface CensusRow {
  type: string;
  module: string | null;
  count: number;
  /** The objects' own allocated blocks (pymalloc block or malloc chunk). */
  bytes: number;
  /** Plus the out-of-line buffers they own (list items, dict tables, set tables, bytearray data). */
  bytesWithBuffers: number;
}

/** One pymalloc size class: how its blocks are used. */
export interface PymallocClass {
  blockSize: number;
  pools: number;
  blocksUsed: number;
  blocksFree: number;
  objectBlocks: number;
  objectBytes: number;
}

export interface CensusStats {
  objects: number;
  bytes: number;
  arenas: number;
  pools: number;
  mallocChunks: number;
  walkMs: number;
}

export type Allocator = 'glibc' | 'tcmalloc' | 'jemalloc' | 'unknown';

/** Where the memory of the process is: the accounting `show` prints and findings rest on. */
export interface MemoryReport {
  allocator: Allocator;
  /** All writable memory in the core. */
  writableBytes: number;
  breakdown: { kind: 'python-objects' | 'pymalloc-free' | 'malloc-free' | 'malloc-python' | 'malloc-native' | 'stacks' | 'other'; bytes: number; detail: string }[];
  glibc: {
    arenas: { address: number; main: boolean; systemMem: number; fastCount: number; fastSize: number; restCount: number; restSize: number; topSize: number; inUseBytes: number }[];
    totals: { fastCount: number; fastSize: number; restCount: number; restSize: number; mmapCount: number; mmapSize: number; systemCurrent: number; inUseBytes: number; trimmableBytes: number };
    tcache: { count: number; bytes: number };
  } | null;
  pymalloc: { arenas: number; arenaBytes: number; poolsUsed: number; poolsFree: number; blocksUsed: number; blocksFree: number; usedBytes: number; sparseArenas: number; sparseArenaBytes: number } | null;
  gc: { enabled: boolean; collecting: boolean; thresholds: number[]; counts: number[]; garbage: number } | null;
  native: {
    bytes: number;
    chunks: number;
    topSizes: { size: number; count: number; bytes: number }[];
    /** The largest native chunks, and the places in memory that hold their address. */
    biggest: { address: number; size: number; pointedFrom: string[] }[];
  } | null;
  cycles: { tracked: number; objects: number; bytes: number; byType: { type: string; module: string | null; count: number; bytes: number }[] } | null;
  stacks: { threads: number; bytes: number };
  /** The process's mappings as the core holds them, by kind (bytes of address space). */
  mappings: { total: number; fileBacked: number; anonymousWritable: number; notWritable: number; threadStacks: number; pymallocArenas: number; glibcHeaps: number; dumped: number };
}

/** Facts read by coroner itself from the ELF core (program headers and notes). */
export interface CoreFacts {
  path: string;
  size: number;
  sha256: string;
  pid: number;
  /** Signal that ended or stopped the process (from NT_PRSTATUS), 0 if none. */
  signal: number;
  signalName: string | null;
  /** Executable path, from the NT_FILE mapping that holds AT_ENTRY. */
  executable: string | null;
  /** Command line from NT_PRPSINFO (the kernel keeps at most 80 bytes of it). */
  cmdline: string;
  /** Short command name from NT_PRPSINFO. */
  fname: string;
  /** ISO time the core was taken (the file's mtime unless told otherwise). */
  takenAt: string;
  /** LWPs in NT_PRSTATUS order. */
  lwps: number[];
  mappedFiles: MappedFile[];
  /** Where the core can be read again when path does not say (a copy kept by --keep-cores), else null. */
  file: string | null;
  /** The folder its mapped files are read from (--sysroot, a kept bundle's files), else null. */
  sysroot: string | null;
}

export interface MappedFile {
  start: number;
  end: number;
  fileOffset: number;
  path: string;
}

export type ThreadState =
  | 'running'
  | 'holding-gil'
  | 'waiting-gil'
  | 'waiting-lock'
  | 'sleeping'
  | 'waiting-io'
  | 'gc'
  | 'idle';

export interface Thread {
  tid: number;
  name: string | null;
  ident: number | null;
  threadObject: number | null;
  state: ThreadState;
  /** Why the state was chosen, in words: "in time.sleep (clock_nanosleep)". */
  stateDetail: string;
  holdsGil: boolean;
  /** Python frames, innermost first. */
  pythonFrames: PythonFrame[];
  /** Native frames, innermost first. */
  nativeFrames: NativeFrame[];
  waitsOn: RawLockWait | null;
}

export interface PythonFrame {
  function: string;
  file: string;
  line: number;
  nativeIndex: number;
  isEntry: boolean;
  locals: Local[];
}

export interface Local {
  name: string;
  kind: string;
  repr: string;
}

export interface NativeFrame {
  function: string | null;
  library: string | null;
  file: string | null;
  line: number | null;
  pc: number;
}

export type Severity = 'critical' | 'warning' | 'info';

export interface Finding {
  kind: string;
  severity: Severity;
  title: string;
  detail: string;
  evidence: string[];
  remedy: string;
}

/** One analyzed core: what is stored, shown and reported. */
export interface Dump {
  id: number;
  core: CoreFacts;
  series: string | null;
  ingestedAt: string;
  analysisMs: number;
  python: RawPython;
  threads: Thread[];
  findings: Finding[];
  warnings: string[];
  /** Live objects by type, heaviest first; empty when the heap could not be walked. */
  census: CensusRow[];
  pymalloc: PymallocClass[];
  censusStats: CensusStats | null;
  memory: MemoryReport | null;
  /** What gdb said about the heap, kept so later analyses (diff's holders) can walk the core again without gdb; not loaded with the dump. */
  heapLayout?: RawHeap | null;
}

/** One row of `coroner list`. */
export interface DumpSummary {
  id: number;
  path: string;
  sha256: string;
  size: number;
  pid: number;
  executable: string | null;
  pythonVersion: string;
  takenAt: string;
  threads: number;
  findings: number;
}
