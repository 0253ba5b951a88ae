// Fuzz target: the server's upload decoding (app/server/requests.h decode_upload: size and pixel limits, then
// JPEG/PNG decoding) with a 1 MiB / 4 MP limit; every failure must be an HttpError 400 or 413.
#include <cstdint>
#include <string>

#include "http_error.h"
#include "requests.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  try {
    const sam3::RgbImage img = sam3::server::decode_upload(body, {1 << 20, 4'000'000}, "fuzz");
    if (img.rgb.size() != static_cast<size_t>(img.width) * static_cast<size_t>(img.height) * 3) __builtin_trap();
  } catch (const sam3::server::HttpError& e) {
    if (e.status != 400 && e.status != 413) __builtin_trap();
  }
  return 0;
}
