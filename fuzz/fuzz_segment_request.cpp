// Fuzz target: the server's segment-request parsing (app/server/requests.h) and the conversion of every prompt to
// the library's prompt for a 640x480 image; every failure must be an HttpError with a 4xx status.
#include <cstdint>
#include <string>

#include "http_error.h"
#include "requests.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  try {
    const sam3::server::SegmentRequest r = sam3::server::parse_segment_request(body);
    for (size_t i = 0; i < r.prompts.size(); ++i) {
      (void)r.prompts[i].cache_key();
      try {
        (void)r.prompts[i].to_prompt(640, 480, sam3::server::prompt_field(i));
      } catch (const sam3::server::HttpError& e) {
        if (e.status < 400 || e.status > 499) __builtin_trap();
      }
    }
  } catch (const sam3::server::HttpError& e) {
    if (e.status < 400 || e.status > 499) __builtin_trap();
  }
  return 0;
}
