// Fuzz target: the config document parser and validator (model/config.h); a config it accepts must survive a
// round trip through its JSON form.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 65536) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const sam3::Config c = sam3::parse_config(text, "fuzz");
    if (sam3::parse_config(sam3::config_to_json(c), "round trip") != c) __builtin_trap();
  } catch (const sam3::Error&) {
  }
  return 0;
}
