// sam3.cpp — feature maps <-> token sequences (batch 1): the detector's x.flatten(2).permute(2, 0, 1) and back.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace sam3::nn {

// [C, H, W] (or [1, C, H, W]) -> tokens [H*W, C], token y*W + x.
Tensor nchw_to_tokens(const Tensor& x);
// tokens [H*W, C] (any shape with H*W*C elements, token-major) -> [C, H, W].
Tensor tokens_to_nchw(const Tensor& t, int64_t h, int64_t w);

// dst [cols, rows] = src [rows, cols] transposed, plus add [rows, cols] when not null (dst = (src + add)ᵀ), in
// cache-sized tiles over n_threads: NCHW <-> tokens for the interactive head's 72x72..288x288 maps. Exact (a copy,
// or one float addition per element).
void transpose_add(const float* src, const float* add, int64_t rows, int64_t cols, float* dst, int n_threads);

}  // namespace sam3::nn
