// sam3.cpp — sine position encoding of a feature map (DETR style, normalised, 1-based positions).
// ref: sam3/model/position_encoding.py (PositionEmbeddingSine.forward)
#pragma once
#include "core/tensor.h"
#include "model/config.h"

namespace sam3 {

// The encoding of an h×w map: [1, num_pos_feats, h, w] NCHW, owned. Channels [0, F/2) encode the row (y),
// [F/2, F) the column (x); within each half, channel pairs (2m, 2m+1) are (sin, cos) of one frequency:
//   Y = (r+1)/(h+1e-6)·2π,  d_k = T^(2·floor(k/2)/(F/2)),  ch k = sin(Y/d_k) (k even) | cos(Y/d_k) (k odd).
// Computed in float32 operation by operation as PyTorch does (so the 1e-6 vanishes in float32 as it does there).
Tensor sine_position_encoding(const PosEncConfig& cfg, int64_t h, int64_t w);

}  // namespace sam3
