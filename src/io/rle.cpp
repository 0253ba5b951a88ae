// sam3.cpp — COCO RLE (pycocotools-compatible). ref: pycocotools/common/maskApi.c
#include "io/rle.h"

#include "core/error.h"

namespace sam3 {

namespace {

void check_size(int64_t h, int64_t w, const char* what) {
  if (h < 0 || w < 0) {
    throw Error(std::string(what) + ": negative mask size " + std::to_string(h) + "x" + std::to_string(w));
  }
}

void check_sum(const Rle& rle, const char* what) {
  int64_t total = 0;
  for (uint32_t c : rle.counts) total += c;
  if (total != rle.h * rle.w) {
    throw Error(std::string(what) + ": RLE counts sum to " + std::to_string(total) + " but the mask is " +
                std::to_string(rle.h) + "x" + std::to_string(rle.w) + " = " + std::to_string(rle.h * rle.w) +
                " pixels");
  }
}

}  // namespace

// ref: maskApi.c (rleEncode) — runs over the column-major pixel order, starting with a run of zeros.
Rle rle_encode(const uint8_t* mask, int64_t h, int64_t w) {
  check_size(h, w, "rle_encode");
  Rle r;
  r.h = h;
  r.w = w;
  uint8_t cur = 0;
  uint32_t run = 0;
  for (int64_t x = 0; x < w; ++x) {
    for (int64_t y = 0; y < h; ++y) {
      const uint8_t v = mask[y * w + x] ? 1 : 0;
      if (v != cur) {
        r.counts.push_back(run);
        run = 0;
        cur = v;
      }
      ++run;
    }
  }
  r.counts.push_back(run);
  return r;
}

// ref: maskApi.c (rleDecode)
std::vector<uint8_t> rle_decode(const Rle& rle) {
  check_size(rle.h, rle.w, "rle_decode");
  check_sum(rle, "rle_decode");
  std::vector<uint8_t> out(static_cast<size_t>(rle.h * rle.w), 0);
  int64_t pos = 0;  // column-major position
  uint8_t v = 0;
  for (uint32_t c : rle.counts) {
    if (v) {
      for (int64_t p = pos; p < pos + c; ++p) out[static_cast<size_t>((p % rle.h) * rle.w + p / rle.h)] = 1;
    }
    pos += c;
    v ^= 1;
  }
  return out;
}

// ref: maskApi.c (rleArea)
int64_t rle_area(const Rle& rle) {
  int64_t a = 0;
  for (size_t i = 1; i < rle.counts.size(); i += 2) a += rle.counts[i];
  return a;
}

// ref: maskApi.c (rleToString) — note the delta is taken for i > 2 (not i >= 2), exactly as upstream.
std::string rle_to_string(const Rle& rle) {
  std::string s;
  s.reserve(rle.counts.size() * 2);
  for (size_t i = 0; i < rle.counts.size(); ++i) {
    int64_t x = rle.counts[i];
    if (i > 2) x -= static_cast<int64_t>(rle.counts[i - 2]);
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
  check_sum(r, "rle_from_string");
  return r;
}

}  // namespace sam3
