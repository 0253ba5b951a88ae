// sam3.cpp — torch.nn-shaped blocks used by the detector head (fusion encoder, decoder, scoring, mask head) on top
// of the shared src/nn ones: MLP (sam3 model_misc.MLP) and nn.MultiheadAttention, each loaded from a ParamScope so
// the C++ tree mirrors the state-dict tree. Weights are borrowed (never copied).
//
// Namespace sam3::det so they cannot clash with src/nn; if src/nn grows an MHA/MLP with these semantics, merge.
// ref: sam3/model/model_misc.py (MLP), torch.nn.MultiheadAttention
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/params.h"

namespace sam3::det {

// Convenience: allocate the output and run the shared nn blocks.
Tensor linear(const nn::Linear& l, const Tensor& x, int n_threads);        // [..., in] -> [..., out]
Tensor layer_norm(const nn::LayerNorm& n, const Tensor& x, int n_threads);  // same shape

// sam3 model_misc.MLP: n Linear layers `layers.{k}`, ReLU between them, none after the last (no residual/out_norm
// here: DotProductScoring adds those itself).
struct Mlp {
  std::vector<nn::Linear> layers;
  static Mlp load(const nn::ParamScope& p, int64_t in, int64_t hidden, int64_t out, int n_layers);
  Tensor forward(const Tensor& x, int n_threads) const;
};

// Additive attention bias for rows [first_row, Lq): bias(h, i, j) = data[h*head_stride + (i-first_row)*Lk + j].
// Rows before first_row get no bias (the decoder's presence token).
struct AttnBias {
  const float* data = nullptr;
  int64_t head_stride = 0;
  int64_t first_row = 0;
};

// torch.nn.MultiheadAttention (packed in_proj [3E, E] = [Wq; Wk; Wv], out_proj), batch 1, eval mode.
struct MultiheadAttention {
  Tensor in_weight, in_bias;  // [3E, E], [3E]
  nn::Linear out_proj;
  int64_t dim = 0, heads = 0;
  static MultiheadAttention load(const nn::ParamScope& p, int64_t dim, int64_t heads);

  // q_in [Lq, E], k_in / v_in [Lk, E] -> [Lq, E]. key_pad[j] != 0 excludes key j (may be null). When q_in and k_in
  // (or k_in and v_in) are the same tensor, their projections are done by one GEMM.
  Tensor forward(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, const uint8_t* key_pad,
                 const AttnBias& bias, int n_threads) const;
};

// Element-wise helpers on small host tensors (shapes must match).
Tensor add(const Tensor& a, const Tensor& b, int n_threads);
void add_inplace(Tensor& a, const Tensor& b, int n_threads);

// [C, H, W] (or [1, C, H, W]) -> tokens [H*W, C] (token y*W + x), and back.
Tensor nchw_to_tokens(const Tensor& x);
Tensor tokens_to_nchw(const Tensor& t, int64_t h, int64_t w);

}  // namespace sam3::det
