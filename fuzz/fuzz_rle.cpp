// Fuzz target: COCO RLE string decoding (io/rle.h rle_from_string) for a size taken from the first bytes; a string
// it accepts must decode to h*w pixels and encode back to the same string.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "io/rle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int64_t h = data[0] % 64, w = data[1] % 64;
  const std::string counts(reinterpret_cast<const char*>(data + 2), size - 2);
  try {
    const sam3::Rle r = sam3::rle_from_string(counts, h, w);
    const std::vector<uint8_t> mask = sam3::rle_decode(r);
    if (static_cast<int64_t>(mask.size()) != h * w) __builtin_trap();
    (void)sam3::rle_area(r);
    const sam3::Rle back = sam3::rle_encode(mask.data(), h, w);
    if (sam3::rle_decode(back) != mask) __builtin_trap();
  } catch (const sam3::Error&) {
  }
  return 0;
}
