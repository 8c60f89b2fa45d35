// Numbers as people read them (src/base/units.ts): sizes, sizes given on the command line,
// signed changes, percentages, type names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hexAddr, humanBytes, parseSize, percent, seconds, shortSha, signed, typeName } from '../../src/base/units.js';

test('humanBytes: decimal units, bytes as they are, one decimal above', () => {
  assert.equal(humanBytes(0), '0 B');
  assert.equal(humanBytes(999), '999 B');
  assert.equal(humanBytes(1000), '1.0 KB');
  assert.equal(humanBytes(1234), '1.2 KB');
  assert.equal(humanBytes(1_500_000), '1.5 MB');
  assert.equal(humanBytes(2 ** 30), '1.1 GB');
  assert.equal(humanBytes(8e9), '8.0 GB');
  assert.equal(humanBytes(3.25e12), '3.3 TB');
  assert.equal(humanBytes(5e15), '5000.0 TB'); // no unit above TB
  assert.equal(humanBytes(-5), '-5 B');
  assert.equal(humanBytes(-1500), '-1.5 KB');
});

test('parseSize: sizes as people write them, decimal unless "i"', () => {
  assert.equal(parseSize('1024'), 1024);
  assert.equal(parseSize('8G'), 8e9);
  assert.equal(parseSize('8g'), 8e9);
  assert.equal(parseSize('500M'), 5e8);
  assert.equal(parseSize('1.5GB'), 1.5e9);
  assert.equal(parseSize('64KiB'), 65536);
  assert.equal(parseSize('64kib'), 65536);
  assert.equal(parseSize('2Gi'), 2 * 2 ** 30);
  assert.equal(parseSize('1TiB'), 2 ** 40);
  assert.equal(parseSize('3t'), 3e12);
  assert.equal(parseSize(' 10 MB '), 1e7);
  assert.equal(parseSize('5b'), 5);
  assert.equal(parseSize('1.9'), 1); // whole bytes
  assert.equal(parseSize('1.5KiB'), 1536);
  for (const bad of ['', 'G', 'abc', '-1G', '1.G', '.5G', '8 GBs', '8P', '1e9', '8 G B', '0x10']) {
    assert.equal(parseSize(bad), null, bad);
  }
  // What humanBytes prints reads back as the same size.
  assert.equal(parseSize(humanBytes(8e9)), 8e9);
});

test('signed: a change with its sign, ± for none', () => {
  assert.equal(signed(1234), '+1,234');
  assert.equal(signed(-5), '-5');
  assert.equal(signed(0), '±0');
  assert.equal(signed(-1234567), '-1,234,567');
  assert.equal(signed(-5e6, humanBytes), '-5.0 MB');
  assert.equal(signed(2500, humanBytes), '+2.5 KB');
  assert.equal(signed(0, humanBytes), '±0 B');
});

test('percent: a whole percentage, 0% of nothing', () => {
  assert.equal(percent(61, 100), '61%');
  assert.equal(percent(1, 3), '33%');
  assert.equal(percent(2, 3), '67%');
  assert.equal(percent(1, 200), '1%'); // half rounds up
  assert.equal(percent(150, 100), '150%');
  assert.equal(percent(0, 10), '0%');
  assert.equal(percent(5, 0), '0%');
});

test('typeName, hexAddr, shortSha, seconds', () => {
  assert.equal(typeName({ type: 'dict', module: null }), 'dict');
  assert.equal(typeName({ type: 'Order', module: 'shop.models' }), 'shop.models.Order');
  assert.equal(typeName({ type: 'Order', module: '' }), 'Order');
  assert.equal(hexAddr(255), '0xff');
  assert.equal(hexAddr(0x7f1234567890), '0x7f1234567890');
  assert.equal(hexAddr(0), '0x0');
  assert.equal(shortSha('0123456789abcdef0123'), '0123456789ab');
  assert.equal(shortSha('abc'), 'abc');
  assert.equal(seconds(0), '0.0 s');
  assert.equal(seconds(1250), '1.3 s');
  assert.equal(seconds(60000), '60.0 s');
});
