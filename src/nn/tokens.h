// sam3.cpp — feature maps <-> token sequences (batch 1): the detector's x.flatten(2).permute(2, 0, 1) and back.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace sam3::nn {

// [C, H, W] (or [1, C, H, W]) -> tokens [H*W, C], token y*W + x.
Tensor nchw_to_tokens(const Tensor& x);
// tokens [H*W, C] (any shape with H*W*C elements, token-major) -> [C, H, W].
Tensor tokens_to_nchw(const Tensor& t, int64_t h, int64_t w);

}  // namespace sam3::nn
