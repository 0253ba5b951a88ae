// Fuzz target: the safetensors reader (io/safetensors.h) on a memfd; every tensor is read end to end.
#include <cstdint>

#include "core/error.h"
#include "fuzz_util.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sam3::fuzz::MemFile f(data, size);
  try {
    sam3::TensorFile tf = sam3::read_safetensors(f.path());
    uint8_t sum = 0;
    for (const auto& [name, t] : tf.tensors) {
      const uint8_t* p = static_cast<const uint8_t*>(t.raw());
      for (size_t i = 0; i < t.nbytes(); ++i) sum ^= p[i];
    }
    volatile uint8_t sink = sum;
    (void)sink;
  } catch (const sam3::Error&) {
  }
  return 0;
}
