// Fuzz target: the whole weight-file loader (io/weight_file.h: zip + pickle + tensor views, or safetensors) on a
// memfd holding the input; every tensor it returns is read end to end (a view outside its storage would show here).
#include <cstdint>

#include "core/error.h"
#include "fuzz_util.h"
#include "io/weight_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sam3::fuzz::MemFile f(data, size);
  try {
    sam3::WeightFile wf = sam3::load_weight_file(f.path());
    uint8_t sum = 0;
    for (const auto& [name, t] : wf.tensors) {
      const uint8_t* p = static_cast<const uint8_t*>(t.raw());
      for (size_t i = 0; i < t.nbytes(); ++i) sum ^= p[i];
    }
    volatile uint8_t sink = sum;
    (void)sink;
  } catch (const sam3::Error&) {
  }
  return 0;
}
