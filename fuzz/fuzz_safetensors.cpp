// Fuzz target: the safetensors reader (io/safetensors.h) on a memfd; every tensor is read end to end. As a converted
// weights file (io/converted_format.h): its metadata is parsed, and every 2-D I8 / BF16 / F16 tensor is packed the
// way Model::load packs a converted file's weights (an I8 one with its "<name>.scale").
#include <cstdint>

#include "core/error.h"
#include "core/ops.h"
#include "fuzz_util.h"
#include "io/converted_format.h"
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
    sam3::ConvertedFormat format;
    try {
      sam3::read_converted_format(tf.metadata, f.path(), &format);
    } catch (const sam3::Error&) {
    }
    for (const auto& [name, t] : tf.tensors) {
      if (t.dim() != 2 || t.numel() == 0 || t.numel() > (1 << 20)) continue;
      try {
        if (t.dtype() == sam3::DType::I8) {
          auto s = tf.tensors.find(sam3::scale_key(name));
          sam3::ops::pack_weight(t, s == tf.tensors.end() ? nullptr : &s->second, sam3::Precision::Int8);
        } else if (t.dtype() == sam3::DType::BF16 || t.dtype() == sam3::DType::F16) {
          sam3::ops::pack_weight(t, nullptr, sam3::Precision::BF16);
        }
      } catch (const sam3::Error&) {
      }
    }
  } catch (const sam3::Error&) {
  }
  return 0;
}
