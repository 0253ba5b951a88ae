// Fuzz target: image probing and decoding (JPEG, PNG: io/image_decode.h and the public read_image_header /
// decode_image_bytes) with a pixel limit of 1 MP (as the server applies its --max-pixels; small enough that one input
// decodes well within the 10 s timeout even instrumented on a loaded machine).
#include <cstdint>

#include "core/error.h"
#include "io/image_decode.h"
#include "sam3/sam3.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)sam3::probe_image(data, size, "fuzz");
  } catch (const std::exception&) {
  }
  try {
    const sam3::ImageHeader h = sam3::read_image_header(data, size, "fuzz");
    if (h.supported && h.width > 0 && h.height > 0 && h.width * h.height <= 1'000'000) {
      const sam3::RgbImage img = sam3::decode_image_bytes(data, size, 1'000'000, "fuzz");
      if (img.rgb.size() != static_cast<size_t>(img.width) * static_cast<size_t>(img.height) * 3) __builtin_trap();
    }
  } catch (const std::exception&) {
  }
  return 0;
}
