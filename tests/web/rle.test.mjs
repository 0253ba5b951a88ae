// Unit test of the browser's RLE decoder (app/web/rle.js) under node's test runner: the hand-checked strings of
// tests/unit/test_rle.cpp (pycocotools' compressed counts, as src/io/rle.cpp writes them), a random round trip
// and the malformed strings src/io/rle.cpp rejects. The browser test (ui.test.mjs) also checks, on real server
// output, that every decoded mask's area equals the "area" the server computed in C++.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rleFromString, rleToString, rleEncode, rleDecode, rleArea, rleBounds, forEachForeground }
  from '../../app/web/rle.js';

const zeros = (h, w) => new Uint8Array(h * w);

test('known strings (same vectors as tests/unit/test_rle.cpp)', () => {
  const cases = [
    // [h, w, string, runs]
    [2, 2, '4', [4]],
    [4, 4, '`0', [16]],
    [10, 10, 'T3', [100]],
    [1000, 1000, 'Pb`n0', [1000000]],
    [2, 2, '04', [0, 4]],
    [2, 2, '112', [1, 1, 2]],
    [2, 2, '211', [2, 1, 1]],
    [2, 3, '122O', [1, 2, 2, 1]],
    [2, 3, '0121O', [0, 1, 2, 2, 1]],
    [1, 103, '1T31mL', [1, 100, 1, 1]],
    [0, 0, '0', [0]],
  ];
  for (const [h, w, s, runs] of cases) {
    assert.deepEqual(Array.from(rleFromString(s, h, w)), runs, `decode "${s}"`);
    assert.equal(rleToString(Uint32Array.from(runs)), s, `encode ${runs}`);
  }
  assert.equal(rleToString(rleEncode(zeros(1000, 1000), 1000, 1000)), 'Pb`n0');
});

test('column-major order: pixel (row 1, col 0) vs (row 0, col 1)', () => {
  const a = zeros(2, 2); a[1 * 2 + 0] = 1;
  assert.equal(rleToString(rleEncode(a, 2, 2)), '112');
  const b = zeros(2, 2); b[0 * 2 + 1] = 1;
  assert.equal(rleToString(rleEncode(b, 2, 2)), '211');
  assert.deepEqual(Array.from(rleDecode(rleFromString('211', 2, 2), 2, 2)), [0, 1, 0, 0]);
});

test('random masks round-trip; area, bounds and column segments agree with the decoded mask', () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let t = 0; t < 200; ++t) {
    const h = 1 + Math.floor(rand() * 40), w = 1 + Math.floor(rand() * 40);
    const density = rand();
    const blob = rand() < 0.5;  // blobs give long runs (large deltas, negative deltas), noise gives short ones
    const m = zeros(h, w);
    const cx = rand() * w, cy = rand() * h, r = rand() * 20;
    for (let y = 0; y < h; ++y)
      for (let x = 0; x < w; ++x)
        m[y * w + x] = blob ? ((x - cx) ** 2 + (y - cy) ** 2 < r * r ? 1 : 0) : (rand() < density ? 1 : 0);
    const runs = rleEncode(m, h, w);
    const s = rleToString(runs);
    const back = rleFromString(s, h, w);
    assert.deepEqual(Array.from(back), Array.from(runs), `h=${h} w=${w}`);
    assert.deepEqual(rleDecode(back, h, w), m);
    const area = m.reduce((a, v) => a + v, 0);
    assert.equal(rleArea(back), area);
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, segArea = 0;
    for (let y = 0; y < h; ++y)
      for (let x = 0; x < w; ++x)
        if (m[y * w + x]) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1); }
    assert.deepEqual(rleBounds(back, h), area ? [x0, y0, x1, y1] : null);
    forEachForeground(back, h, (x, a, b) => { segArea += b - a; });
    assert.equal(segArea, area);
  }
});

test('runs beyond 2^31 survive (values past 32-bit bit operators)', () => {
  const runs = Uint32Array.from([3000000000, 5, 1000000000]);
  const s = rleToString(runs);
  assert.deepEqual(Array.from(rleFromString(s, 4000000005, 1)), Array.from(runs));
});

test('malformed strings are rejected like rle_from_string', () => {
  assert.throws(() => rleFromString('4', 2, 3), /sum to 4/);         // sums to 4, mask has 6 pixels
  assert.throws(() => rleFromString('4\x7f', 2, 2), /invalid character/);
  assert.throws(() => rleFromString('T', 10, 10), /truncated/);      // 'T' announces another group
  assert.throws(() => rleFromString('O', 1, 1), /outside/);          // -1 as a first run
  assert.throws(() => rleFromString('oooooooooooo0', 1, 1), /too long/);
});
