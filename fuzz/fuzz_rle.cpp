// Fuzz target: COCO RLE string decoding (io/rle.h rle_from_string) for a size taken from the first bytes; a string
// it accepts must decode to h*w pixels (the row-sweep decoder agreeing with a naive column-major one, zero-length
// runs included), its area and self-intersection must be the decoded mask's pixel count, its bounds the decoded
// mask's tight box, and the mask must encode back to runs that decode to the same pixels.
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/rle.h"

namespace {

// maskApi.c's rleDecode as written there: runs laid down in column-major order.
std::vector<uint8_t> naive_decode(const sam3::Rle& r) {
  std::vector<uint8_t> out(static_cast<size_t>(r.h * r.w), 0);
  int64_t pos = 0;
  uint8_t v = 0;
  for (uint32_t c : r.counts) {
    for (int64_t p = pos; p < pos + c; ++p) out[static_cast<size_t>((p % r.h) * r.w + p / r.h)] = v;
    pos += c;
    v ^= 1;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int64_t h = data[0] % 64, w = data[1] % 64;
  const std::string counts(reinterpret_cast<const char*>(data + 2), size - 2);
  try {
    const sam3::Rle r = sam3::rle_from_string(counts, h, w);
    const std::vector<uint8_t> mask = sam3::rle_decode(r);
    if (static_cast<int64_t>(mask.size()) != h * w) __builtin_trap();
    if (mask != naive_decode(r)) __builtin_trap();
    int64_t area = 0;
    for (uint8_t v : mask) area += v;
    if (sam3::rle_area(r) != area || sam3::rle_counts_intersection(r.counts, r.counts) != area) __builtin_trap();
    int64_t x0 = w, y0 = h, x1 = -1, y1 = -1, b[4] = {0, 0, 0, 0};
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        if (mask[static_cast<size_t>(y * w + x)]) {
          x0 = x < x0 ? x : x0;
          x1 = x > x1 ? x : x1;
          y0 = y < y0 ? y : y0;
          y1 = y > y1 ? y : y1;
        }
    if (sam3::rle_counts_bounds(r.counts, h, &b[0], &b[1], &b[2], &b[3]) != (area > 0)) __builtin_trap();
    if (area > 0 && (b[0] != x0 || b[1] != y0 || b[2] != x1 || b[3] != y1)) __builtin_trap();
    const sam3::Rle back = sam3::rle_encode(mask.data(), h, w);
    if (sam3::rle_decode(back) != mask || sam3::rle_area(back) != area) __builtin_trap();
  } catch (const sam3::Error&) {
  }
  return 0;
}
