// Schema migrations, applied in order; MIGRATIONS[n] takes the database from version n to n+1.
// Never edit a released migration: add the next one. The README documents the resulting schema.

export const MIGRATIONS: string[] = [
  `
  CREATE TABLE dumps (
    id             INTEGER PRIMARY KEY,
    sha256         TEXT    NOT NULL UNIQUE,
    path           TEXT    NOT NULL,
    size           INTEGER NOT NULL,
    pid            INTEGER NOT NULL,
    signal         INTEGER NOT NULL,
    signal_name    TEXT,
    executable     TEXT,
    cmdline        TEXT    NOT NULL,
    fname          TEXT    NOT NULL,
    taken_at       TEXT    NOT NULL,
    ingested_at    TEXT    NOT NULL,
    analysis_ms    INTEGER NOT NULL,
    python_version TEXT    NOT NULL,
    python_layout  TEXT    NOT NULL,
    python_hexversion INTEGER NOT NULL,
    gil_holder     INTEGER NOT NULL,
    gil_locked     INTEGER NOT NULL,
    series         TEXT,
    warnings       TEXT    NOT NULL DEFAULT '[]'
  );
  CREATE TABLE mapped_files (
    dump_id     INTEGER NOT NULL REFERENCES dumps(id) ON DELETE CASCADE,
    start       INTEGER NOT NULL,
    end         INTEGER NOT NULL,
    file_offset INTEGER NOT NULL,
    path        TEXT    NOT NULL
  );
  CREATE INDEX mapped_files_dump ON mapped_files(dump_id);
  CREATE TABLE threads (
    id           INTEGER PRIMARY KEY,
    dump_id      INTEGER NOT NULL REFERENCES dumps(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    tid          INTEGER NOT NULL,
    ident        INTEGER,
    thread_object INTEGER,
    name         TEXT,
    state        TEXT    NOT NULL,
    state_detail TEXT    NOT NULL,
    holds_gil    INTEGER NOT NULL,
    wait_kind    TEXT,
    wait_address INTEGER,
    wait_owner   INTEGER,
    wait_count   INTEGER,
    UNIQUE (dump_id, idx)
  );
  CREATE TABLE native_frames (
    thread_id INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    function  TEXT,
    library   TEXT,
    file      TEXT,
    line      INTEGER,
    pc        INTEGER NOT NULL,
    PRIMARY KEY (thread_id, idx)
  );
  CREATE TABLE python_frames (
    id         INTEGER PRIMARY KEY,
    thread_id  INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    function   TEXT    NOT NULL,
    file       TEXT    NOT NULL,
    line       INTEGER NOT NULL,
    native_idx INTEGER NOT NULL,
    is_entry   INTEGER NOT NULL,
    UNIQUE (thread_id, idx)
  );
  CREATE TABLE locals (
    frame_id INTEGER NOT NULL REFERENCES python_frames(id) ON DELETE CASCADE,
    idx      INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    repr     TEXT    NOT NULL,
    PRIMARY KEY (frame_id, idx)
  );
  CREATE TABLE findings (
    id       INTEGER PRIMARY KEY,
    dump_id  INTEGER NOT NULL REFERENCES dumps(id) ON DELETE CASCADE,
    idx      INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    severity TEXT    NOT NULL,
    title    TEXT    NOT NULL,
    detail   TEXT    NOT NULL,
    evidence TEXT    NOT NULL,
    remedy   TEXT    NOT NULL
  );
  CREATE INDEX threads_dump ON threads(dump_id);
  CREATE INDEX python_frames_thread ON python_frames(thread_id);
  CREATE INDEX findings_dump ON findings(dump_id);
  `,
  // 2: the census.
  `
  CREATE TABLE census (
    dump_id            INTEGER NOT NULL REFERENCES dumps(id) ON DELETE CASCADE,
    type               TEXT    NOT NULL,
    module             TEXT,
    count              INTEGER NOT NULL,
    bytes              INTEGER NOT NULL,
    bytes_with_buffers INTEGER NOT NULL
  );
  CREATE INDEX census_dump ON census(dump_id);
  CREATE TABLE pymalloc_classes (
    dump_id       INTEGER NOT NULL REFERENCES dumps(id) ON DELETE CASCADE,
    block_size    INTEGER NOT NULL,
    pools         INTEGER NOT NULL,
    blocks_used   INTEGER NOT NULL,
    blocks_free   INTEGER NOT NULL,
    object_blocks INTEGER NOT NULL,
    object_bytes  INTEGER NOT NULL,
    PRIMARY KEY (dump_id, block_size)
  );
  ALTER TABLE dumps ADD COLUMN census_objects INTEGER;
  ALTER TABLE dumps ADD COLUMN census_bytes INTEGER;
  ALTER TABLE dumps ADD COLUMN census_arenas INTEGER;
  ALTER TABLE dumps ADD COLUMN census_pools INTEGER;
  ALTER TABLE dumps ADD COLUMN census_malloc_chunks INTEGER;
  ALTER TABLE dumps ADD COLUMN census_ms INTEGER;
  `,
  // 3: the memory accounting, kept whole as JSON (its parts are read together, and evolve).
  `
  ALTER TABLE dumps ADD COLUMN memory TEXT;
  `,
  // 4: the heap layout gdb read, so that a later diff can walk the core again without gdb.
  `
  ALTER TABLE dumps ADD COLUMN heap_layout TEXT;
  `,
  // 5: where a core coroner copied (archive member, stdin, upload) was kept (--keep-cores), and
  // the sysroot its mapped files are read from (--sysroot, a kept bundle), for diff's holders.
  `
  ALTER TABLE dumps ADD COLUMN core_file TEXT;
  ALTER TABLE dumps ADD COLUMN core_sysroot TEXT;
  `,
  // 6: the version of the heap layout record beside it: a record of another version is not read.
  `
  ALTER TABLE dumps ADD COLUMN heap_layout_version INTEGER;
  `,
  // 7: the asyncio tasks and their loops, each kept whole as JSON (a task's chain, locals and
  // awaited futures are read together); NULL when they were not read.
  `
  ALTER TABLE dumps ADD COLUMN tasks TEXT;
  ALTER TABLE dumps ADD COLUMN loops TEXT;
  `,
  // 8: the locks each thread's with blocks hold, kept whole as JSON (read with the thread), the
  // Condition whose wait() a thread's lock wait is, and the threads a finding is about (JSON
  // array of LWPs). NULL in dumps stored before.
  `
  ALTER TABLE threads ADD COLUMN held_locks TEXT;
  ALTER TABLE threads ADD COLUMN wait_condition INTEGER;
  ALTER TABLE findings ADD COLUMN threads TEXT;
  `,
  // 9: the source line of each Python frame as the file read at ingest said it (NULL: the file
  // was not there).
  `
  ALTER TABLE python_frames ADD COLUMN source TEXT;
  `,
];
