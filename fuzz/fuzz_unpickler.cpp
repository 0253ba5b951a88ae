// Fuzz target: the restricted unpickler (io/pickle.h) on arbitrary bytes; every failure must be a sam3::Error.
#include <cstdint>

#include "core/error.h"
#include "io/pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    sam3::Unpickler up(data, size, "fuzz");
    const sam3::PyObject* root = up.load();
    (void)root->repr();
  } catch (const sam3::Error&) {
  }
  return 0;
}
