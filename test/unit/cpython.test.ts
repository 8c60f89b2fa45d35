// The cpython/ decoders and walkers on objects laid out by hand with 3.11's numbers: str text,
// dict key tables (combined and split), object sizes, tracking, owned buffers, references.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { strValue } from '../../src/cpython/strings.js';
import { dictKeysBytes, forEachDictEntry, splitValuesBytes } from '../../src/cpython/dicts.js';
import { Kind, TypeTable } from '../../src/cpython/types.js';
import { ObjectReader, inlineValuesBytes, itemCount, type BufferSink } from '../../src/cpython/objects.js';
import { ObjectRecognizer } from '../../src/census/recognizer.js';
import type { RawHeap } from '../../src/model/raw.js';
import { traverse } from '../../src/cpython/traverse.js';
import { FakeMemory, T, heap311, strState } from './cpython-fixture.js';

const heap = heap311();
const types = new TypeTable(heap);
const ti = (name: string): number => types.names.indexOf(name);

/** A compact str object at addr. */
function putStr(mem: FakeMemory, addr: number, text: string): void {
  const codes = [...text].map((c) => c.codePointAt(0)!);
  const kind = Math.max(...codes) < 0x80 ? 1 : Math.max(...codes) < 0x100 ? 1 : Math.max(...codes) < 0x10000 ? 2 : 4;
  const ascii = Math.max(...codes) < 0x80;
  mem.set(addr, 1).set(addr + 8, T.str).set(addr + 16, codes.length).set(addr + 24, -1).set(addr + 32, strState(kind, ascii));
  const data = Buffer.alloc((codes.length + 1) * kind);
  codes.forEach((c, i) => data.writeUIntLE(c, i * kind, kind));
  mem.zero(addr + 40, 40).bytes(addr + (ascii ? 48 : 72), data);
}

test('strValue reads ASCII, 1-byte, 2-byte and 4-byte compact strs, and refuses others', () => {
  const mem = new FakeMemory();
  putStr(mem, 0x10000, 'CACHE');
  putStr(mem, 0x10100, 'café');
  putStr(mem, 0x10200, 'naïve €5');
  putStr(mem, 0x10300, 'ok 🐍');
  assert.equal(strValue(mem, heap, 0x10000), 'CACHE');
  assert.equal(strValue(mem, heap, 0x10100), 'café');
  assert.equal(strValue(mem, heap, 0x10200), 'naïve €5');
  assert.equal(strValue(mem, heap, 0x10300), 'ok 🐍');
  assert.equal(strValue(mem, heap, 0x10000, 3), 'CAC');
  mem.set(0x10400 + 32, strState(1, true, false));
  assert.equal(strValue(mem, heap, 0x10400), null, 'a legacy (non-compact) str');
  assert.equal(strValue(mem, heap, 0x90000), null, 'memory the core lacks');
});

test('dictKeysBytes sizes a key table as dictobject.c allocates it', () => {
  const dk = heap.dict_keys;
  // A 3.11 header: dk_log2_size at byte 8, dk_log2_index_bytes at 9, dk_kind at 10.
  const header = (log2Size: number, log2Index: number, kind: number): Buffer => {
    const b = Buffer.alloc(40);
    b[8] = log2Size;
    b[9] = log2Index;
    b[10] = kind;
    return b;
  };
  // 8 slots: 5 usable entries, 8 index bytes; general entries of 24 bytes, unicode ones of 16.
  assert.equal(dictKeysBytes(dk, header(3, 3, 0), 0), 32 + 8 + 5 * 24);
  assert.equal(dictKeysBytes(dk, header(3, 3, 1), 0), 32 + 8 + 5 * 16);
  // 2^17 slots with 4-byte indices: 87,381 usable entries.
  assert.equal(dictKeysBytes(dk, header(17, 19, 1), 0), 32 + 2 ** 19 + 87381 * 16);
  assert.equal(dictKeysBytes(dk, header(0, 0, 1), 0), -1, 'the shared empty table');
  assert.equal(dictKeysBytes(dk, header(60, 3, 1), 0), -1, 'damage');
});

/** A dict at addr with a combined unicode-keyed table at keys holding `entries`. */
function putDict(mem: FakeMemory, addr: number, keys: number, entries: [number, number][], opts: { general?: boolean; values?: number } = {}): void {
  const general = opts.general ?? false;
  mem.set(addr - 16, 0x777).set(addr - 8, 0).set(addr, 1).set(addr + 8, T.dict).set(addr + 16, entries.length).set(addr + 24, 0)
    .set(addr + 32, keys).set(addr + 40, opts.values ?? 0);
  // dk_refcnt, then dk_log2_size = 3, dk_log2_index_bytes = 3, dk_kind (0 general, 1 unicode) as bytes, then usable and nentries.
  mem.set(keys, 1).set(keys + 8, 3 | (3 << 8) | ((general ? 0 : 1) << 16)).set(keys + 16, 5 - entries.length).set(keys + 24, entries.length);
  mem.zero(keys + 32, 8);
  const at = keys + 40;
  entries.forEach(([k, v], i) => {
    if (general) mem.set(at + 24 * i, 1234).set(at + 24 * i + 8, k).set(at + 24 * i + 16, opts.values ? 0 : v);
    else mem.set(at + 16 * i, k).set(at + 16 * i + 8, opts.values ? 0 : v);
  });
  if (opts.values) entries.forEach(([, v], i) => mem.set(opts.values! + 8 * i, v));
}

test('forEachDictEntry walks combined tables of both kinds and split tables', () => {
  const seen = (mem: FakeMemory, dict: number): [number, number][] => {
    const out: [number, number][] = [];
    forEachDictEntry(mem, heap, dict, (k, v) => void out.push([k, v]));
    return out;
  };
  const mem = new FakeMemory();
  putDict(mem, 0x20000, 0x21000, [[0xa0, 0xb0], [0xa8, 0xb8]]);
  assert.deepEqual(seen(mem, 0x20000), [[0xa0, 0xb0], [0xa8, 0xb8]]);
  putDict(mem, 0x30000, 0x31000, [[0xc0, 0xd0]], { general: true });
  assert.deepEqual(seen(mem, 0x30000), [[0xc0, 0xd0]]);
  putDict(mem, 0x40000, 0x41000, [[0xe0, 0xf0], [0xe8, 0xf8]], { values: 0x42000 });
  assert.deepEqual(seen(mem, 0x40000), [[0xe0, 0xf0], [0xe8, 0xf8]], 'split: keys from the table, values from the values array');
  let calls = 0;
  forEachDictEntry(mem, heap, 0x20000, () => ++calls > 0);
  assert.equal(calls, 1, 'stops when the visitor says so');
  assert.equal(itemCount(mem, heap, Kind.Dict, 0x40000), 2, 'ma_used');
});

test('ObjectReader: sizes by kind, tracking by the GC head, buffers owned', () => {
  const mem = new FakeMemory();
  const reader = new ObjectReader(types, heap);
  // int of three digits, negative (ob_size -3): 24 + 3 * 4 bytes; zero still has one digit.
  mem.set(0x100, 1).set(0x108, T.int).set(0x110, -3);
  mem.set(0x200, 1).set(0x208, T.int).set(0x210, 0);
  putStr(mem, 0x300, 'hello');
  // a tuple of 2 (tracked: its GC head's _gc_next is set) and one untracked.
  mem.set(0x400 - 16, 0x5000).set(0x400 - 8, 0).set(0x400, 1).set(0x408, T.tuple).set(0x410, 2);
  mem.set(0x500 - 16, 0).set(0x500 - 8, 0).set(0x500, 1).set(0x508, T.tuple).set(0x510, 2);
  const w = mem.window(0, 0x1000);
  assert.equal(reader.request(w, 0x100, ti('int'), 0x1000), 36);
  assert.equal(reader.request(w, 0x200, ti('int'), 0x1000), 28);
  assert.equal(reader.request(w, 0x300, ti('str'), 0x1000), 48 + 5 + 1);
  assert.equal(reader.request(w, 0x400, ti('tuple'), 0x1000), 16 + 24 + 2 * 8, 'the GC head counts');
  assert.equal(reader.request(w, 0x300, ti('str'), 0x320), -1, 'past what is readable');
  assert.equal(reader.requestAt(mem, 0x100, ti('int')), 36, 'the same through random access');
  assert.equal(reader.tracked(w, 0x400, ti('tuple')), true);
  assert.equal(reader.tracked(w, 0x500, ti('tuple')), false);
  assert.equal(reader.tracked(w, 0x300, ti('str')), false, 'no GC head at all');
  assert.equal(types.pre[ti('Rec')], 32, 'a managed instance: pre-header and GC head');
  assert.deepEqual(types.preCandidates, [0, 16, 32]);
});

test('ObjectReader.buffers reports list items, set tables, bytearrays, values arrays and dict key tables', () => {
  const mem = new FakeMemory();
  const base = 0x7000;
  const got: string[] = [];
  const sink: BufferSink = { buffer: (t, n, p) => void got.push(`${types.names[t]} ${n} @${p.toString(16)}`), dictKeys: (k, t) => void got.push(`${types.names[t]} keys @${k.toString(16)}`) };
  mem.set(base + 0x100 + 24, 0xaa00).set(base + 0x100 + 32, 10); // list: ob_item, allocated
  mem.set(base + 0x200 + 32, 7).set(base + 0x200 + 40, base + 0x200 + 64); // set with its small table inside
  mem.set(base + 0x300 + 32, 63).set(base + 0x300 + 40, 0xbb00); // set with a table of 64 entries
  mem.set(base + 0x400 + 24, 100).set(base + 0x400 + 32, 0xcc00); // bytearray
  mem.set(base + 0x500 + 32, 0xdd00); // dict
  mem.set(base + 0x600 - 32, 0xee00); // Rec's values pointer
  const w = mem.window(base, 0x800);
  const reader = new ObjectReader(types, heap);
  for (const [o, name] of [[0x100, 'list'], [0x200, 'set'], [0x300, 'set'], [0x400, 'bytearray'], [0x500, 'dict'], [0x600, 'Rec']] as const) {
    reader.buffers(w, o, ti(name), 0x800, base, sink);
  }
  assert.deepEqual(got, ['list 80 @aa00', 'set 1024 @bb00', 'bytearray 100 @cc00', 'dict keys @dd00', 'Rec 40 @ee00']);
});

test('traverse follows what tp_traverse follows', () => {
  const mem = new FakeMemory();
  const visit = (addr: number, name: string): number[] => {
    const out: number[] = [];
    traverse(mem, heap, types, addr, ti(name), (a) => void out.push(a));
    return out;
  };
  mem.set(0x1000 + 16, 2).set(0x1000 + 24, 0x1100).set(0x1100, 0xa1).set(0x1108, 0xa2);
  assert.deepEqual(visit(0x1000, 'list'), [0xa1, 0xa2]);
  mem.set(0x2000 + 16, 1).set(0x2000 + 24, 0xb1);
  assert.deepEqual(visit(0x2000, 'tuple'), [0xb1]);
  putDict(mem, 0x3000, 0x3100, [[0xc1, 0xc2]]);
  assert.deepEqual(visit(0x3000, 'dict'), [0xc1, 0xc2]);
  putDict(mem, 0x4000, 0x4100, [[0xd1, 0xd2]], { values: 0x4200 });
  assert.deepEqual(visit(0x4000, 'dict'), [0xd2], 'a split dict visits its values, not the shared keys');
  // An instance of a plain class: its type (a heap type), its values array's slots, its dict pointer.
  mem.set(0x5000 - 32, 0x5100).set(0x5000 - 24, 0xe9);
  mem.set(0x5100, 0xe1).set(0x5108, 0).set(0x5110, 0xe3).set(0x5118, 0);
  assert.deepEqual(visit(0x5000, 'Rec'), [T.Rec, 0xe1, 0, 0xe3, 0, 0xe9]);
  mem.set(0x6000 + 16, 0xf1);
  assert.deepEqual(visit(0x6000, 'cell'), [0xf1]);
});

// The other versions' rules, on the same objects laid out with their numbers.

test("'sized' key tables (3.6 to 3.10): sizes by dk_size with 1-, 2- and 4-byte indices, entries after the indices", () => {
  const h39 = { ...heap311(), dict_keys: { format: 'sized', header_size: 40, size: 8, nentries: 32, entry_general: 24, key_general: 8, value_general: 16, usable_num: 2, usable_den: 3 } } as const;
  const head = (size: number): Buffer => {
    const b = Buffer.alloc(40);
    b.writeBigInt64LE(BigInt(size), 8);
    return b;
  };
  assert.equal(dictKeysBytes(h39.dict_keys, head(8), 0), 40 + 8 + 5 * 24);
  assert.equal(dictKeysBytes(h39.dict_keys, head(512), 0), 40 + 2 * 512 + 341 * 24);
  assert.equal(dictKeysBytes(h39.dict_keys, head(1 << 17), 0), 40 + 4 * (1 << 17) + 87381 * 24);
  assert.equal(dictKeysBytes(h39.dict_keys, head(12), 0), -1, 'not a power of two: damage');
  const mem = new FakeMemory();
  // dict at 0x100 with keys at 0x1000: 8 slots, 2 entries after 8 index bytes.
  mem.set(0x100 + 32, 0x1000).set(0x100 + 40, 0);
  mem.set(0x1000 + 8, 8).set(0x1000 + 32, 2).set(0x1000 + 40, 0);
  mem.set(0x1030 + 8, 0xa1).set(0x1030 + 16, 0xb1).set(0x1048 + 8, 0xa2).set(0x1048 + 16, 0xb2);
  const seen: number[][] = [];
  forEachDictEntry(mem, h39, 0x100, (k, v) => void seen.push([k, v]));
  assert.deepEqual(seen, [[0xa1, 0xb1], [0xa2, 0xb2]]);
});

test("split dicts before 3.11 own a values array of USABLE_FRACTION(dk_size) pointers", () => {
  const sized = { format: 'sized', header_size: 40, size: 8, nentries: 32, entry_general: 24, key_general: 8, value_general: 16, usable_num: 2, usable_den: 3 } as const;
  const head = (size: number): Buffer => {
    const b = Buffer.alloc(48);
    b.writeBigInt64LE(BigInt(size), 8 + 8);
    return b;
  };
  assert.equal(splitValuesBytes(sized, head(8), 8), 8 * 5);
  assert.equal(splitValuesBytes(sized, head(64), 8), 8 * 42);
  assert.equal(splitValuesBytes(sized, head(12), 8), -1, 'not a power of two: damage');
  // 3.11 keeps a managed instance's values with the instance, not with the dict.
  assert.equal(splitValuesBytes(heap311().dict_keys, head(8), 8), -1);
});

test("'table' dicts (2.7): the dict's own table, small inside the object, large in a buffer; empty slots skipped", () => {
  const h27 = {
    ...heap311(),
    dict: { ma_keys: null, ma_values: null, ma_used: 24 },
    dict_keys: { format: 'table', mask: 32, table: 40, smalltable: 56, entry: 24, key: 8, value: 16 },
  } as const;
  const mem = new FakeMemory();
  const d = 0x2000;
  mem.set(d + 24, 2).set(d + 32, 7).set(d + 40, d + 56); // small: the table is ma_smalltable
  for (let k = 0; k < 8; k++) mem.set(d + 56 + 24 * k + 8, 0).set(d + 56 + 24 * k + 16, 0);
  mem.set(d + 56 + 24 * 2 + 8, 0xa1).set(d + 56 + 24 * 2 + 16, 0xb1);
  mem.set(d + 56 + 24 * 5 + 8, 0xdd).set(d + 56 + 24 * 5 + 16, 0); // a deleted key's dummy: no value
  mem.set(d + 56 + 24 * 6 + 8, 0xa2).set(d + 56 + 24 * 6 + 16, 0xb2);
  const seen: number[][] = [];
  forEachDictEntry(mem, h27, d, (k, v) => void seen.push([k, v]));
  assert.deepEqual(seen, [[0xa1, 0xb1], [0xa2, 0xb2]]);
  const t27 = new TypeTable(h27);
  const reader = new ObjectReader(t27, h27);
  const got: string[] = [];
  const sink: BufferSink = { buffer: (_t, n, p) => void got.push(`${n} @${p.toString(16)}`), dictKeys: () => void got.push('keys?') };
  reader.buffers(mem.window(d, 256), 0, t27.builtin('dict'), 256, d, sink);
  assert.deepEqual(got, [], 'a small table is part of the object');
  mem.set(d + 32, 31).set(d + 40, 0x9000);
  reader.buffers(mem.window(d, 256), 0, t27.builtin('dict'), 256, d, sink);
  assert.deepEqual(got, [`${32 * 24} @9000`]);
});

test('values: tagged in one word (3.12), inline after the object (3.13)', () => {
  const got: string[] = [];
  const sink: BufferSink = { buffer: (_t, n, p) => void got.push(`${n} @${p.toString(16)}`), dictKeys: () => {} };
  const visit = (h: ReturnType<typeof heap311>, mem: FakeMemory, o: number): number[] => {
    const out: number[] = [];
    traverse(mem, h, new TypeTable(h), o, new TypeTable(h).names.indexOf('Rec'), (a) => void out.push(a));
    return out;
  };
  const h312 = { ...heap311(), managed: { flags: 16 | 8, pre_header_size: 16, dict_offset: -24, values: { kind: 'tagged', offset: -24 } } } as const;
  const mem = new FakeMemory();
  mem.set(0x3000 - 24, 0x30ff /* values 0x3100, less one (_PyDictOrValues_SetValues) */).set(0x3100, 0xc1).set(0x3108, 0xc2).set(0x3110, 0).set(0x3118, 0);
  const t312 = new TypeTable(h312);
  new ObjectReader(t312, h312).buffers(mem.window(0x2f00, 0x200), 0x100, t312.names.indexOf('Rec'), 0x200, 0x2f00, sink);
  assert.deepEqual(got, ['40 @3100'], 'the values array, its tag taken off');
  assert.deepEqual(visit(h312, mem, 0x3000), [T.Rec, 0xc1, 0xc2, 0, 0]);
  mem.set(0x3000 - 24, 0x3500);
  assert.deepEqual(visit(h312, mem, 0x3000), [T.Rec, 0x3500], 'low bit clear: a dict');

  const h313 = heap313();
  const t313 = new TypeTable(h313);
  const rec = t313.names.indexOf('Rec');
  assert.equal(t313.inline[rec], 1);
  // Rec: basicsize 16, its inline values right after, then the pre-header and GC head before. Its
  // capacity byte unreadable: the class's size (40 bytes).
  const r313 = new ObjectReader(t313, h313);
  assert.equal(r313.request(new FakeMemory().window(0, 64), 0, rec, 16), 16 + 40 + 32);
  // Its capacity byte says 4 slots: the header, 4 pointers, 4 order bytes rounded up to 8; one
  // slot more (8 bytes and no more order bytes) may be allocated.
  const one = new FakeMemory().set(16, 0x01010004);
  assert.equal(r313.request(one.window(0, 64), 0, rec, 64), 16 + (8 + 32 + 8) + 32);
  assert.equal(r313.slack, 8);
  assert.equal(inlineValuesBytes(8, 8), 8 + 64 + 8);
  assert.equal(inlineValuesBytes(8, 9), 8 + 72 + 16);
  // As PyObject_VisitManagedDict: valid values (as many as the capacity byte says), not the dict.
  mem.set(0x4000 - 24, 0x4800).set(0x4000 + 16, 0x01000004 /* valid, capacity 4 */).set(0x4018, 0xd1).set(0x4020, 0xd2).set(0x4028, 0).set(0x4030, 0);
  assert.deepEqual(visit(h313, mem, 0x4000), [T.Rec, 0xd1, 0xd2, 0, 0]);
  mem.set(0x4000 + 16, 0x00000004);
  assert.deepEqual(visit(h313, mem, 0x4000), [T.Rec, 0x4800], 'values moved to the dict: only the dict is visited');
});

/** 3.13's record: inline values with a PyDictValues header (capacity, size, embedded, valid). */
function heap313(): RawHeap {
  const h = { ...heap311(), managed: { flags: 16 | 8, pre_header_size: 16, dict_offset: -24, values: { kind: 'inline', flags: 4, header: 8, valid: 3, capacity: 0 } } } as RawHeap;
  h.types.find((t) => t.name === 'Rec')!.flags |= 4;
  return h;
}

test('3.13: a split dict\'s values are after their PyDictValues header', () => {
  const mem = new FakeMemory();
  putDict(mem, 0x40000, 0x41000, [[0xe0, 0xf0], [0xe8, 0xf8]], { values: 0x42008 });
  // ma_values points at the header (capacity 2, size 2, embedded, valid), the values after it.
  mem.set(0x42000, 0x01010202).set(0x40000 + 40, 0x42000);
  const out: [number, number][] = [];
  forEachDictEntry(mem, heap313(), 0x40000, (k, v) => void out.push([k, v]));
  assert.deepEqual(out, [[0xe0, 0xf0], [0xe8, 0xf8]]);
});

test('3.13: the recognizer takes an instance whose block was sized for one more inline slot', () => {
  const h = heap313();
  const types313 = new TypeTable(h);
  const recognizer = new ObjectRecognizer(types313, h);
  const rec = types313.names.indexOf('Rec');
  // A 160-byte pymalloc block: pre-header and GC head (32), Rec (16), values of capacity 10
  // (8 + 80 + 16 = 104): 152 bytes, the 160 class. With capacity 9 (8 + 72 + 16 = 96, 144 bytes)
  // the block is one class too big, unless the allocation had room for 10.
  for (const [capacity, fits] of [[10, true], [9, true], [7, false]] as const) {
    const mem = new FakeMemory().zero(0, 160).set(32, 1).set(40, T.Rec).set(48, 0x01000000 | capacity);
    assert.equal(recognizer.at(mem.window(0, 160), 0, 160, 160, 'pymalloc') === rec, fits, `capacity ${capacity}`);
  }
});

test('2.7: tracked by gc_refs, unicode with its own buffer, names as byte strings', () => {
  const h27 = {
    ...heap311(),
    gc_head_size: 32,
    tracked: { offset: -16, untracked: -2, shift: 0 },
    managed: { flags: 0, pre_header_size: 0, dict_offset: null, values: null },
    str: { format: 'py2', length: 16, buffer: 24, char_size: 4, bytes_data: 36 },
  } as const;
  const t27 = new TypeTable(h27);
  assert.deepEqual(t27.preCandidates, [0, 32]);
  const reader = new ObjectReader(t27, h27);
  const mem = new FakeMemory();
  mem.set(0x100 - 16, -2).set(0x200 - 16, 0x5000);
  const w = mem.window(0, 0x400);
  assert.equal(reader.tracked(w, 0x100, t27.builtin('list')), false);
  assert.equal(reader.tracked(w, 0x200, t27.builtin('list')), true);
  mem.set(0x300 + 16, 5).set(0x300 + 24, 0x7700);
  assert.equal(reader.request(mem.window(0, 0x400), 0x300, t27.builtin('str'), 0x400), 80, 'fixed size');
  const got: string[] = [];
  reader.buffers(mem.window(0, 0x400), 0x300, t27.builtin('str'), 0x400, 0, { buffer: (_t, n, p) => void got.push(`${n} @${p.toString(16)}`), dictKeys: () => {} });
  assert.deepEqual(got, ['24 @7700']);
  mem.set(0x500 + 16, 5).bytes(0x500 + 32, Buffer.from('\0\0\0\0CACHE\0'));
  assert.equal(strValue(mem, h27, 0x500), 'CACHE');
  // 3.7's rule: gc_refs shifted by one (the low bit is a flag); untracked is -2 after the shift.
  const h37 = { ...heap311(), gc_head_size: 24, tracked: { offset: -8, untracked: -2, shift: 1 } } as const;
  const r37 = new ObjectReader(new TypeTable(h37), h37);
  mem.set(0x600 - 8, -4).set(0x700 - 8, -3).set(0x800 - 8, 6);
  const w37 = mem.window(0, 0x1000);
  const list37 = new TypeTable(h37).builtin('list');
  assert.deepEqual([0x600, 0x700, 0x800].map((o) => r37.tracked(w37, o, list37)), [false, false, true]);
});
