// sam3.cpp — the compute precision of the matrix products: f32 (exact parity), bf16 (bf16 weights and inputs, f32
// accumulation) or int8 (s8 weights per output channel, u8 activations per token, s32 accumulation). Chosen once
// when a model is loaded (docs/precision.md); norms, softmax, RoPE, positions and the residual stream stay f32.
#pragma once
#include <cstdint>
#include <string>

namespace sam3 {

enum class Precision : uint8_t { F32, BF16, Int8 };

const char* precision_name(Precision p);  // "f32", "bf16", "int8"
// Inverse of precision_name; false for anything else.
bool precision_from_name(const std::string& name, Precision* out);

}  // namespace sam3
