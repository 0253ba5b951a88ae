// sam3.cpp — COCO RLE (pycocotools-compatible). ref: pycocotools/common/maskApi.c
#include "io/rle.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace sam3 {

namespace {

void check_size(int64_t h, int64_t w, const char* what) {
  if (h < 0 || w < 0) {
    throw Error(std::string(what) + ": negative mask size " + std::to_string(h) + "x" + std::to_string(w));
  }
}

}  // namespace

int64_t rle_counts_total(const std::vector<uint32_t>& counts) {
  int64_t total = 0;
  for (uint32_t c : counts) total += c;
  return total;
}

namespace {

void check_sum(const std::vector<uint32_t>& counts, int64_t h, int64_t w, const char* what) {
  const int64_t total = rle_counts_total(counts);
  if (total != h * w) {
    throw Error(std::string(what) + ": RLE counts sum to " + std::to_string(total) + " but the mask is " +
                std::to_string(h) + "x" + std::to_string(w) + " = " + std::to_string(h * w) + " pixels");
  }
}

}  // namespace

// ref: maskApi.c (rleEncode) — runs over the column-major pixel order, starting with a run of zeros. A run ends
// where pixel (y, x) differs from the pixel before it in that order: (y-1, x), or for y = 0 the last pixel of column
// x-1 (0 before the first pixel). Those transitions are found row by row (memory order), then sorted by column.
std::vector<uint32_t> rle_counts_encode(const uint8_t* mask, int64_t h, int64_t w) {
  check_size(h, w, "rle_encode");
  if (w > 0 && h > static_cast<int64_t>(UINT32_MAX) / w)
    throw Error("rle_encode: a " + std::to_string(h) + "x" + std::to_string(w) + " mask has more than 2^32 - 1 pixels");
  const int64_t n = h * w;
  if (n == 0) return {0};
  std::vector<uint32_t> xs;                                // the transitions' columns, row after row
  std::vector<uint32_t> row_end(static_cast<size_t>(h));   // xs[row_end[y-1] .. row_end[y]) are row y's
  std::vector<uint32_t> col_begin(static_cast<size_t>(w) + 1, 0);
  auto add = [&](int64_t x) {
    xs.push_back(static_cast<uint32_t>(x));
    ++col_begin[static_cast<size_t>(x) + 1];
  };
  for (int64_t x = 0; x < w; ++x) {  // row 0 against the end of the column before
    const bool prev = x > 0 && mask[(h - 1) * w + x - 1] != 0;
    if ((mask[x] != 0) != prev) add(x);
  }
  row_end[0] = static_cast<uint32_t>(xs.size());
  for (int64_t y = 1; y < h; ++y) {
    const uint8_t* row = mask + y * w;
    const uint8_t* above = row - w;
    int64_t x = 0;
    for (; x + 8 <= w; x += 8) {  // most of a mask's rows equal the row above: 8 bytes at a time
      uint64_t a, b;
      std::memcpy(&a, row + x, 8);
      std::memcpy(&b, above + x, 8);
      if (a == b) continue;
      for (int64_t k = x; k < x + 8; ++k)
        if ((row[k] != 0) != (above[k] != 0)) add(k);
    }
    for (; x < w; ++x)
      if ((row[x] != 0) != (above[x] != 0)) add(x);
    row_end[static_cast<size_t>(y)] = static_cast<uint32_t>(xs.size());
  }
  // Counting sort by column (stable: each column's rows stay ascending).
  for (size_t x = 0; x < static_cast<size_t>(w); ++x) col_begin[x + 1] += col_begin[x];
  std::vector<uint32_t> ys(xs.size());
  size_t i = 0;
  for (int64_t y = 0; y < h; ++y)
    for (; i < row_end[static_cast<size_t>(y)]; ++i) ys[col_begin[xs[i]]++] = static_cast<uint32_t>(y);
  // col_begin[x] is now the end of column x's list. Runs are the distances between transitions.
  std::vector<uint32_t> counts;
  counts.reserve(ys.size() + 1);
  int64_t prev = 0;
  size_t k = 0;
  for (int64_t x = 0; x < w; ++x) {
    for (; k < col_begin[static_cast<size_t>(x)]; ++k) {
      const int64_t p = x * h + ys[k];
      counts.push_back(static_cast<uint32_t>(p - prev));
      prev = p;
    }
  }
  counts.push_back(static_cast<uint32_t>(n - prev));
  return counts;
}

// ref: maskApi.c (rleDecode), written row by row: the value flips at each transition (the column-major position
// where a run ends). Column x starts (row 0) with the value after the transitions at positions <= x*h; the other
// transitions flip their column at their row.
void rle_counts_decode(const std::vector<uint32_t>& counts, int64_t h, int64_t w, uint8_t* out) {
  check_size(h, w, "rle_decode");
  check_sum(counts, h, w, "rle_decode");
  const int64_t n = h * w;
  if (n == 0) return;
  std::vector<uint8_t> cur(static_cast<size_t>(w));                 // the values of the row being written
  std::vector<uint32_t> row_begin(static_cast<size_t>(h) + 1, 0);   // flips of row y: xs[row_begin[y] ..]
  // Pass 1: each column's first value, and the number of flips in each row.
  uint8_t v = 0;
  int64_t pos = 0, col = 0;
  for (size_t i = 0; i + 1 < counts.size(); ++i) {
    pos += counts[i];
    for (; col < w && col * h < pos; ++col) cur[static_cast<size_t>(col)] = v;
    v ^= 1;
    if (pos < n && pos % h != 0) ++row_begin[static_cast<size_t>(pos % h) + 1];
  }
  for (; col < w; ++col) cur[static_cast<size_t>(col)] = v;
  for (size_t y = 0; y < static_cast<size_t>(h); ++y) row_begin[y + 1] += row_begin[y];
  // Pass 2: the flips' columns, by row (the transitions come column by column, so each row's stay in column order).
  std::vector<uint32_t> xs(row_begin[static_cast<size_t>(h)]);
  pos = 0;
  for (size_t i = 0; i + 1 < counts.size(); ++i) {
    pos += counts[i];
    if (pos < n && pos % h != 0) xs[row_begin[static_cast<size_t>(pos % h)]++] = static_cast<uint32_t>(pos / h);
  }
  // row_begin[y] is now the end of row y's flips (and row 0 has none).
  size_t k = 0;
  for (int64_t y = 0; y < h; ++y) {
    for (; k < row_begin[static_cast<size_t>(y)]; ++k) cur[xs[k]] ^= 1;
    std::memcpy(out + y * w, cur.data(), static_cast<size_t>(w));
  }
}

int64_t rle_counts_area(const std::vector<uint32_t>& counts) {
  int64_t a = 0;
  for (size_t i = 1; i < counts.size(); i += 2) a += counts[i];
  return a;
}

int64_t rle_counts_intersection(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  const int64_t ta = rle_counts_total(a), tb = rle_counts_total(b);
  if (ta != tb)
    throw Error("rle_intersection: the masks have " + std::to_string(ta) + " and " + std::to_string(tb) + " pixels");
  int64_t inter = 0, ra = a.empty() ? 0 : a[0], rb = b.empty() ? 0 : b[0];  // what is left of the current runs
  size_t i = 0, j = 0;
  bool va = false, vb = false;  // the current runs' values (zeros first)
  while (i < a.size() && j < b.size()) {
    if (ra == 0) {
      if (++i < a.size()) {
        ra = a[i];
        va = !va;
      }
      continue;
    }
    if (rb == 0) {
      if (++j < b.size()) {
        rb = b[j];
        vb = !vb;
      }
      continue;
    }
    const int64_t step = std::min(ra, rb);
    if (va && vb) inter += step;
    ra -= step;
    rb -= step;
  }
  return inter;
}

bool rle_counts_bounds(const std::vector<uint32_t>& counts, int64_t h, int64_t* x0, int64_t* y0, int64_t* x1,
                       int64_t* y1) {
  if (h <= 0) return false;
  int64_t bx0 = INT64_MAX, by0 = INT64_MAX, bx1 = -1, by1 = -1, pos = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const int64_t len = counts[i];
    if (i % 2 == 1 && len > 0) {  // 1s over the column-major positions [pos, pos + len)
      const int64_t first = pos, last = pos + len - 1;
      bx0 = std::min(bx0, first / h);
      bx1 = std::max(bx1, last / h);
      if (first / h == last / h) {
        by0 = std::min(by0, first % h);
        by1 = std::max(by1, last % h);
      } else {  // from a column's row first % h to the next one's row last % h, or further: rows 0 .. h-1
        by0 = 0;
        by1 = h - 1;
      }
    }
    pos += len;
  }
  if (bx1 < 0) return false;
  *x0 = bx0;
  *y0 = by0;
  *x1 = bx1;
  *y1 = by1;
  return true;
}

Rle rle_encode(const uint8_t* mask, int64_t h, int64_t w) {
  Rle r;
  r.counts = rle_counts_encode(mask, h, w);
  r.h = h;
  r.w = w;
  return r;
}

std::vector<uint8_t> rle_decode(const Rle& rle) {
  // Both before the allocation: a bad size or sum must not allocate h·w bytes first.
  check_size(rle.h, rle.w, "rle_decode");
  check_sum(rle.counts, rle.h, rle.w, "rle_decode");
  std::vector<uint8_t> out(static_cast<size_t>(rle.h * rle.w));
  rle_counts_decode(rle.counts, rle.h, rle.w, out.data());
  return out;
}

// ref: maskApi.c (rleArea)
int64_t rle_area(const Rle& rle) { return rle_counts_area(rle.counts); }

std::string rle_to_string(const Rle& rle) { return rle_counts_to_string(rle.counts); }

// ref: maskApi.c (rleToString) — note the delta is taken for i > 2 (not i >= 2), exactly as upstream.
std::string rle_counts_to_string(const std::vector<uint32_t>& counts) {
  std::string s;
  s.reserve(counts.size() * 2);
  for (size_t i = 0; i < counts.size(); ++i) {
    int64_t x = counts[i];
    if (i > 2) x -= static_cast<int64_t>(counts[i - 2]);
    bool more = true;
    while (more) {
      int c = static_cast<int>(x & 0x1f);
      x >>= 5;  // arithmetic shift: negative deltas end at -1
      more = (c & 0x10) ? x != -1 : x != 0;
      if (more) c |= 0x20;
      s.push_back(static_cast<char>(c + 48));
    }
  }
  return s;
}

// ref: maskApi.c (rleFrString)
Rle rle_from_string(const std::string& counts, int64_t h, int64_t w) {
  check_size(h, w, "rle_from_string");
  Rle r;
  r.h = h;
  r.w = w;
  size_t p = 0;
  while (p < counts.size()) {
    int64_t x = 0;
    int k = 0;
    bool more = true;
    while (more) {
      if (p >= counts.size()) throw Error("rle_from_string: truncated value at the end of the counts string");
      const int c = static_cast<unsigned char>(counts[p]) - 48;
      if (c < 0 || c > 63) {
        throw Error("rle_from_string: invalid character '" + std::string(1, counts[p]) + "' at offset " +
                    std::to_string(p) + " of the counts string");
      }
      if (k >= 12) throw Error("rle_from_string: value too long at offset " + std::to_string(p));
      x |= static_cast<int64_t>(c & 0x1f) << (5 * k);
      more = (c & 0x20) != 0;
      ++p;
      ++k;
      if (!more && (c & 0x10)) x |= static_cast<int64_t>(-1) * (int64_t{1} << (5 * k));  // sign-extend
    }
    const size_t m = r.counts.size();
    if (m > 2) x += static_cast<int64_t>(r.counts[m - 2]);
    if (x < 0 || x > static_cast<int64_t>(UINT32_MAX)) {
      throw Error("rle_from_string: run " + std::to_string(m) + " decodes to " + std::to_string(x) +
                  ", outside [0, 2^32)");
    }
    r.counts.push_back(static_cast<uint32_t>(x));
  }
  check_sum(r.counts, r.h, r.w, "rle_from_string");
  return r;
}

}  // namespace sam3
