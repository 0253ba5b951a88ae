// sam3.cpp — a Linear layer's weight converted once, at load, to a reduced precision (ops::pack_weight) and laid
// out for this CPU's matmul kernel. Model code holds it opaquely (ops.h); only the kernels look inside.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/precision.h"
#include "kernels/cpu/onednn_matmul.h"

namespace sam3::ops {

struct PackedWeight {
  Precision precision = Precision::BF16;  // BF16 or Int8
  int64_t n = 0, k = 0;                   // the weight is [n, k]

  // Int8: per-output-channel scales and Σ_k q[n,k] (kernels/quantize.h), and the activations' levels (255, or 127
  // where u8·s8 products saturate: kernels::cpu::onednn_int8_saturates()).
  std::vector<float> scale;
  std::vector<int32_t> colsum;
  int act_levels = 255;

  // oneDNN's packed copy, or null when oneDNN has no kernel for this precision here (bf16 without AVX512-BF16/AMX):
  // then the plain [n,k] bits below are kept and the fallback kernel is used.
  std::unique_ptr<kernels::cpu::OnednnMatmul> onednn;
  std::vector<uint16_t> bf16_plain;
  std::vector<int8_t> s8_plain;

  // The plain [n,k] weight whatever the storage (unpacks oneDNN's copy): for the reference back end and tests.
  std::vector<uint16_t> bf16() const;
  std::vector<int8_t> s8() const;
};

}  // namespace sam3::ops
