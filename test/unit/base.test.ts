// The census's number containers (src/base/column.ts, src/base/address-index.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Column, concat, u32Column } from '../../src/base/column.js';
import { AddressIndex } from '../../src/base/address-index.js';

test('Column: grows past its capacity, keeping what it holds', () => {
  const c = new Column(undefined, 2);
  for (let i = 0; i < 1000; i++) c.push(0x7f0000000000 + i * 16);
  assert.equal(c.length, 1000);
  const v = c.values();
  assert.ok(v instanceof Float64Array);
  assert.equal(v.length, 1000);
  assert.equal(v[0], 0x7f0000000000);
  assert.equal(v[999], 0x7f0000000000 + 999 * 16);
});

test('Column: values() is a view, detach() a copy that empties the column', () => {
  const c = new Column();
  c.push(1);
  c.push(2);
  const view = c.values();
  const out = c.detach();
  assert.deepEqual([...out], [1, 2]);
  assert.equal(c.length, 0);
  assert.equal(c.values().length, 0);
  assert.notEqual(out.buffer, view.buffer);
  c.push(3); // usable again after detach (from a capacity of 0)
  assert.deepEqual([...c.values()], [3]);
});

test('Column: made with no capacity at all', () => {
  const c = new Column((n) => new Float64Array(n), 0);
  c.push(7);
  c.push(8);
  c.push(9);
  assert.deepEqual([...c.values()], [7, 8, 9]);
});

test('u32Column: 32-bit values', () => {
  const c = u32Column();
  c.push(5);
  c.push(2 ** 32 - 1);
  c.push(2 ** 32 + 7); // does not fit: kept modulo 2^32, as a Uint32Array keeps it
  const v = c.values();
  assert.ok(v instanceof Uint32Array);
  assert.deepEqual([...v], [5, 2 ** 32 - 1, 7]);
});

test('concat: arrays end to end', () => {
  const out = concat([Float64Array.of(1, 2), new Float64Array(0), Float64Array.of(3)], (n) => new Float64Array(n));
  assert.deepEqual([...out], [1, 2, 3]);
  assert.equal(concat([], (n) => new Uint32Array(n)).length, 0);
});

test('AddressIndex: each key to its position, -1 for others', () => {
  const keys = [0x7f0000001000, 0, 0x555555559000, 2 ** 53 - 1, 4096, 0x100000000, 0x200000000];
  const index = new AddressIndex(keys);
  keys.forEach((k, i) => assert.equal(index.getNumber(k), i, `key 0x${k.toString(16)}`));
  // Halves: 0x100000000 is lo 0, hi 1.
  assert.equal(index.get(0, 1), 5);
  assert.equal(index.get(0, 2), 6);
  assert.equal(index.get(0, 3), -1);
  assert.equal(index.getNumber(0x7f0000001008), -1);
  assert.equal(index.getNumber(1), -1);
  assert.equal(new AddressIndex([]).getNumber(0), -1);
});

test('AddressIndex: many keys that share their low or their high half', () => {
  const keys: number[] = [];
  for (let i = 0; i < 3000; i++) keys.push(0x7f0000000000 + i * 4096); // pages: one high half
  for (let i = 1; i <= 3000; i++) keys.push(i * 2 ** 32); // one low half (0)
  const index = new AddressIndex(keys);
  keys.forEach((k, i) => assert.equal(index.getNumber(k), i));
  for (let i = 0; i < 3000; i++) assert.equal(index.getNumber(0x7f0000000000 + i * 4096 + 8), -1);
  assert.equal(index.getNumber(3001 * 2 ** 32), -1);
});
