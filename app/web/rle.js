// sam3.cpp web UI — COCO run-length encoded masks, as the server sends them: {size: [h, w], counts: "<string>"}.
//
// The counts string is pycocotools' compressed form (maskApi.c rleToString); this module is its inverse
// (rleFrString) and mirrors src/io/rle.cpp (rle_from_string), which wrote it:
//   - runs alternate 0s and 1s over the COLUMN-major pixel order (pixel (x, y) is index x*h + y) and start with a
//     run of 0s (possibly empty);
//   - each run is written in little-endian groups of 5 bits, one char per group ('0' + bits), bit 5 of a char =
//     "another group follows", bit 4 of the last group = sign;
//   - from the fourth run on (index > 2) the value written is the difference to the run two before.
// Values go up to 2^32, past what JavaScript's 32-bit bit operators hold, so the groups are combined with
// multiplication in doubles (exact below 2^53).

const GROUP = 32;  // 2^5: one char carries 5 bits of a value

// counts string -> Uint32Array of runs. Throws an Error naming the fault on a malformed string, like
// rle_from_string: a char outside '0'..'o', a truncated or over-long value, a run outside [0, 2^32), runs not
// summing to h*w.
export function rleFromString(counts, h, w) {
  if (typeof counts !== 'string') throw new Error('RLE: counts must be a string');
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 0 || w < 0) throw new Error(`RLE: bad size ${h}x${w}`);
  const runs = [];
  let total = 0;
  let p = 0;
  while (p < counts.length) {
    let x = 0;
    let scale = 1;  // GROUP ** k
    let k = 0;
    let more = true;
    while (more) {
      if (p >= counts.length) throw new Error('RLE: truncated value at the end of the counts string');
      const c = counts.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error(`RLE: invalid character '${counts[p]}' at offset ${p}`);
      if (k >= 12) throw new Error(`RLE: value too long at offset ${p}`);
      x += (c & 0x1f) * scale;
      scale *= GROUP;
      more = (c & 0x20) !== 0;
      ++p;
      ++k;
      if (!more && (c & 0x10)) x -= scale;  // sign-extend: the bits above the last group are all ones
    }
    const m = runs.length;
    if (m > 2) x += runs[m - 2];
    if (x < 0 || x > 0xffffffff) throw new Error(`RLE: run ${m} decodes to ${x}, outside [0, 2^32)`);
    runs.push(x);
    total += x;
  }
  if (total !== h * w) throw new Error(`RLE: runs sum to ${total} but the mask is ${h}x${w} = ${h * w} pixels`);
  return Uint32Array.from(runs);
}

// Inverse of rleFromString (pycocotools rleToString); used by the tests and to build masks on the client.
export function rleToString(runs) {
  let s = '';
  for (let i = 0; i < runs.length; ++i) {
    let x = runs[i];
    if (i > 2) x -= runs[i - 2];
    let more = true;
    while (more) {
      // x may exceed 32 bits: take the low 5 bits and shift arithmetically with floor division.
      let c = ((x % GROUP) + GROUP) % GROUP;
      x = Math.floor(x / GROUP);
      more = (c & 0x10) ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

// Row-major h*w mask (nonzero = foreground) -> runs over the column-major order, zeros first (rleEncode).
export function rleEncode(mask, h, w) {
  const runs = [];
  let cur = 0;
  let run = 0;
  for (let x = 0; x < w; ++x) {
    for (let y = 0; y < h; ++y) {
      const v = mask[y * w + x] ? 1 : 0;
      if (v !== cur) {
        runs.push(run);
        run = 0;
        cur = v;
      }
      ++run;
    }
  }
  runs.push(run);
  return Uint32Array.from(runs);
}

// Runs -> row-major Uint8Array of 0/1 (rleDecode).
export function rleDecode(runs, h, w) {
  const out = new Uint8Array(h * w);
  forEachForeground(runs, h, (x, y0, y1) => {
    for (let y = y0; y < y1; ++y) out[y * w + x] = 1;
  });
  return out;
}

// Number of foreground pixels (rleArea): the sum of the odd-indexed runs.
export function rleArea(runs) {
  let a = 0;
  for (let i = 1; i < runs.length; i += 2) a += runs[i];
  return a;
}

// Calls fn(x, y0, y1) for every vertical segment of foreground: column x, rows y0 <= y < y1. A run of ones that
// crosses columns is split at each column boundary. This is how masks are painted without decoding them.
export function forEachForeground(runs, h, fn) {
  if (h === 0) return;
  let pos = 0;
  for (let i = 0; i < runs.length; ++i) {
    const n = runs[i];
    if (i & 1) {
      let p = pos;
      const end = pos + n;
      while (p < end) {
        const x = Math.floor(p / h);
        const y0 = p - x * h;
        const y1 = Math.min(h, y0 + (end - p));
        fn(x, y0, y1);
        p += y1 - y0;
      }
    }
    pos += n;
  }
}

// Tight bounding box of the foreground [x0, y0, x1, y1) in pixels, or null for an empty mask.
export function rleBounds(runs, h) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  forEachForeground(runs, h, (x, a, b) => {
    if (x < x0) x0 = x;
    if (x + 1 > x1) x1 = x + 1;
    if (a < y0) y0 = a;
    if (b > y1) y1 = b;
  });
  return x0 === Infinity ? null : [x0, y0, x1, y1];
}

// {size: [h, w], counts} as the server sends it -> {h, w, runs, area}.
export function parseMask(mask) {
  if (!mask || !Array.isArray(mask.size) || mask.size.length !== 2) throw new Error('RLE: expected {size: [h, w], counts}');
  const [h, w] = mask.size;
  const runs = rleFromString(mask.counts, h, w);
  return { h, w, runs, area: rleArea(runs) };
}
