// Unit test of app/web/exif.js: the EXIF orientation found in hand-built JPEG headers (both byte orders), and 1
// for anything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jpegOrientation } from '../../app/web/exif.js';

// SOI, [APP0 JFIF], APP1 Exif with IFD0 = {0x010f Make (ASCII, ignored), 0x0112 Orientation}, then SOS.
function jpeg(orientation, { le = false, jfif = true } = {}) {
  const u16 = (x) => (le ? [x & 255, x >> 8] : [x >> 8, x & 255]);
  const u32 = (x) => (le ? [x & 255, (x >> 8) & 255, (x >> 16) & 255, x >>> 24] : [x >>> 24, (x >> 16) & 255, (x >> 8) & 255, x & 255]);
  const tiff = [...(le ? [0x49, 0x49] : [0x4d, 0x4d]), ...u16(42), ...u32(8), ...u16(2),
                ...u16(0x010f), ...u16(2), ...u32(4), 0x41, 0x42, 0x43, 0,
                ...u16(0x0112), ...u16(3), ...u32(1), ...u16(orientation), 0, 0, ...u32(0)];
  const exif = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  const app1 = [0xff, 0xe1, (exif.length + 2) >> 8, (exif.length + 2) & 255, ...exif];
  const app0 = jfif ? [0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0] : [];
  return new Uint8Array([0xff, 0xd8, ...app0, ...app1, 0xff, 0xda, 0, 2, 0xff, 0xd9]).buffer;
}

test('orientation from big- and little-endian EXIF, with or without JFIF before it', () => {
  for (let o = 1; o <= 8; ++o) {
    assert.equal(jpegOrientation(jpeg(o)), o);
    assert.equal(jpegOrientation(jpeg(o, { le: true })), o);
    assert.equal(jpegOrientation(jpeg(o, { jfif: false })), o);
  }
});

test('1 for no EXIF, a bad value, a PNG, truncated bytes', () => {
  assert.equal(jpegOrientation(new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2, 0xff, 0xd9]).buffer), 1);
  assert.equal(jpegOrientation(jpeg(9)), 1);
  assert.equal(jpegOrientation(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]).buffer), 1);
  const full = new Uint8Array(jpeg(6));
  for (let n = 0; n < full.length - 4; ++n) assert.ok([1, 6].includes(jpegOrientation(full.slice(0, n).buffer)));
  assert.equal(jpegOrientation(new ArrayBuffer(0)), 1);
});
