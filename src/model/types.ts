// The domain model of coroner, defined once and passed along the pipeline: core file -> gdb
// extraction (the wire contract, ./raw.ts) -> model (Dump) -> store -> show / report.
import type { RawHeap } from './raw.js';

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
  gc: {
    enabled: boolean; collecting: boolean; thresholds: number[]; counts: number[]; garbage: number;
    /** The types of gc.garbage's items, most first (absent in reports stored before it was kept). */
    garbageTypes?: { type: string; module: string | null; count: number }[];
  } | null;
  native: {
    bytes: number;
    chunks: number;
    topSizes: { size: number; count: number; bytes: number }[];
    /** The largest native chunks, and the places in memory that hold their address. */
    biggest: { address: number; size: number; pointedFrom: string[] }[];
  } | null;
  cycles: { tracked: number; objects: number; bytes: number; byType: { type: string; module: string | null; count: number; bytes: number }[] } | null;
  /**
   * Where reading the allocators met structures that cannot be what they say (a chunk size past
   * its heap, a free list that loops): the figures are what could be read (absent in reports
   * stored before it was kept).
   */
  damage?: string[];
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
  waitsOn: LockWait | null;
  /** The locks its frames' `with` blocks hold, innermost frame first. */
  heldLocks: HeldLock[];
}

/** A lock a `with` block of one of the thread's frames holds. */
export interface HeldLock {
  address: number;
  /** "lock" (_thread.lock) | "rlock" (_thread.RLock) */
  kind: string;
  /** Index into pythonFrames of the frame whose with block holds it. */
  frame: number;
  /** The Condition the with statement names (the lock is its lock), or null. */
  condition: number | null;
  /** The @contextmanager function the with statement calls, whose own with block holds the lock, or null (absent in dumps stored before). */
  context?: string | null;
  /** Given up while the thread waits in that Condition's wait(): held again once notified. */
  released: boolean;
}

/** A lock-like object a thread is blocked on, read from its native frames' arguments. */
export interface LockWait {
  /** "lock" (_thread.lock) | "rlock" (_thread.RLock) | "semaphore" | "other" */
  kind: string;
  address: number;
  /** For an RLock: the ident (pthread_t) of the thread that owns it, 0 when free. */
  ownerIdent: number | null;
  /** For an RLock: recursion count. */
  count: number | null;
  /** The Condition whose wait() blocks on this lock (its waiter, released by a notify), or null. */
  condition: number | null;
}

export interface PythonFrame {
  function: string;
  file: string;
  line: number;
  nativeIndex: number;
  isEntry: boolean;
  locals: Local[];
  /** The line's text (stripped) as the file said at ingest, when the file could be read; null or absent when not. */
  source?: string | null;
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

/** An asyncio task as the core holds it. */
export interface AsyncTask {
  address: number;
  /** Its name; "task 0x..." when it has none. */
  name: string;
  /** Its class, e.g. "_asyncio.Task". */
  type: string;
  /** "pending" | "cancelled" | "finished" */
  state: string;
  /** Its step is under way: the loop's current task. */
  running: boolean;
  loop: number;
  exception: string | null;
  /** Whether result() or exception() read the exception (null: none). */
  exceptionRetrieved: boolean | null;
  logDestroyPending: boolean;
  /** The future it waits on (its _fut_waiter). */
  waitsOn: AwaitedFuture | null;
  /** What it waits on, in words: "asyncio.sleep(3600), due in 3599.2 s", "task \"worker\"". */
  waitsOnText: string;
  /** The names of the tasks that await this one (directly, or through a gather). */
  awaitedBy: string[];
  /** The coroutine chain, outermost first: the innermost awaiting coroutine last. */
  chain: TaskFrame[];
  /** What the innermost coroutine awaits that is not a coroutine, by type, or null. */
  awaitable: string | null;
}

export interface AwaitedFuture {
  address: number;
  type: string;
  /** "task" | "gather" | "future" | "other" */
  kind: string;
  state: string | null;
  /** The awaited task's name (kind "task"). */
  taskName: string | null;
  /** A gather's children. */
  children: AwaitedFuture[] | null;
  /** The LWP of the executor thread running the work behind it (loop.run_in_executor), or null (absent in dumps stored before). */
  executorTid?: number | null;
}

export interface TaskFrame {
  function: string;
  file: string;
  line: number;
  /** "coroutine" | "generator" | "async_generator" */
  kind: string;
  /** "created" | "suspended" | "running" */
  state: string;
  locals: Local[];
  /** The loop time a timer of this frame (asyncio.sleep's) is due at, or null. */
  timerWhen: number | null;
}

/** An asyncio event loop of the tasks. */
export interface EventLoop {
  address: number;
  type: string;
  /** The thread that runs it (its LWP), or null. */
  threadTid: number | null;
  threadIdent: number | null;
  ready: number | null;
  scheduled: number | null;
  stopping: boolean | null;
  closed: boolean | null;
  /** The task whose step it is running (its address), or null. */
  currentTask: number | null;
  /** Its time() when it last computed a select timeout, or null. */
  selectStartedAt: number | null;
}

export type Severity = 'critical' | 'warning' | 'info';

export interface Finding {
  kind: string;
  severity: Severity;
  title: string;
  detail: string;
  evidence: string[];
  remedy: string;
  /** The LWPs of the threads the finding is about (a deadlock's cycle, a crash's thread); absent when none or not recorded. */
  threads?: number[];
}

/** The interpreter of a dump. */
export interface PythonInfo {
  /** "3.11.2" */
  version: string;
  hexversion: number;
  /** Which layout of the gdb script read it, e.g. "cpython-3.11". */
  layout: string;
  /** Address of the thread state holding the GIL, 0 when nobody holds it. */
  gilHolder: number;
  gilLocked: boolean;
}

/** One analyzed core: what is stored, shown and reported. */
export interface Dump {
  id: number;
  core: CoreFacts;
  series: string | null;
  ingestedAt: string;
  analysisMs: number;
  python: PythonInfo;
  threads: Thread[];
  findings: Finding[];
  warnings: string[];
  /** Live objects by type, heaviest first; empty when the heap could not be walked. */
  census: CensusRow[];
  pymalloc: PymallocClass[];
  censusStats: CensusStats | null;
  memory: MemoryReport | null;
  /** The asyncio tasks; null when they were not read (a version coroner reads no tasks of, no asyncio, or a dump stored before). */
  tasks: AsyncTask[] | null;
  loops: EventLoop[] | null;
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
  /** The command line the process ran (as `show` has it). */
  cmdline: string;
  /** The kinds of its findings, in their order. */
  findingKinds: string[];
}
