// sam3.cpp web UI — the EXIF orientation of a JPEG (tag 0x0112 of IFD0 in the APP1 "Exif" segment).
//
// The server decodes images as the reference pipeline does (PIL's Image.open: the stored pixels, EXIF orientation
// NOT applied), while browsers always show a JPEG rotated as its EXIF says. For a rotated photo the two would not
// line up, so the UI sends such a photo upright, as the PNG the browser shows (app.js).

// 1 (as stored) .. 8, or 1 when the bytes are not a JPEG or carry no orientation.
export function jpegOrientation(buffer) {
  const v = new DataView(buffer);
  if (v.byteLength < 4 || v.getUint16(0) !== 0xffd8) return 1;
  let p = 2;
  while (p + 4 <= v.byteLength) {
    if (v.getUint8(p) !== 0xff) return 1;
    const marker = v.getUint8(p + 1);
    if (marker === 0xd9 || marker === 0xda) return 1;  // end of image, start of scan: no EXIF before the pixels
    const len = v.getUint16(p + 2);
    if (len < 2 || p + 2 + len > v.byteLength) return 1;
    if (marker === 0xe1 && len >= 16 && v.getUint32(p + 4) === 0x45786966 && v.getUint16(p + 8) === 0) {  // "Exif\0\0"
      return tiffOrientation(v, p + 10, p + 2 + len);
    }
    p += 2 + len;
  }
  return 1;
}

function tiffOrientation(v, t, end) {
  const order = v.getUint16(t);
  if (order !== 0x4949 && order !== 0x4d4d) return 1;
  const le = order === 0x4949;
  if (t + 8 > end || v.getUint16(t + 2, le) !== 42) return 1;
  const ifd = t + v.getUint32(t + 4, le);
  if (ifd + 2 > end) return 1;
  const n = v.getUint16(ifd, le);
  for (let i = 0; i < n; ++i) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > end) return 1;
    if (v.getUint16(e, le) === 0x0112) {
      const o = v.getUint16(e + 8, le);  // SHORT, stored in the first 2 bytes of the value field
      return o >= 1 && o <= 8 ? o : 1;
    }
  }
  return 1;
}
