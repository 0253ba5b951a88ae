// sam3.cpp — attention blocks shared by the prompt encoders (text encoder, geometry encoder): torch.nn
// MultiheadAttention (batch 1, eval) and the pre-norm TransformerEncoderLayer of encoder.py as the geometry encoder
// configures it. Built from a key prefix (nn::ParamScope), weights borrowed from the checkpoint.
//
// Namespace sam3::prompt so that these cannot clash with other components' blocks; to be merged into src/nn once a
// shared MultiheadAttention lands there.
// ref: torch.nn.MultiheadAttention (torch 1.13 F.multi_head_attention_forward), sam3/model/encoder.py
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/params.h"

namespace sam3::prompt {

// LayerNorm eps of every norm in the text and geometry encoders (spec §0: "eps = 1e-5 everywhere"; the config
// documents list it once, as constants.layer_norm_eps).
constexpr double kLayerNormEps = 1e-5;

// nn.MultiheadAttention(dim, heads): in_proj_weight [3E,E] = [Wq; Wk; Wv], in_proj_bias [3E], out_proj (E→E).
// Logits q·kᵀ/sqrt(E/heads); key j excluded when key_pad[j] != 0; softmax over keys; heads concatenated; out_proj.
struct MultiheadAttention {
  Tensor in_weight, in_bias;  // [3E, E], [3E]
  nn::Linear out_proj;
  int64_t dim = 0, heads = 0;

  static MultiheadAttention load(const nn::ParamScope& p, int64_t dim, int64_t heads);

  // q = k = v = x [L, E] (one packed [L, 3E] projection) -> y [L, E] (preallocated, must not alias x).
  // causal: query i attends to keys 0..i only (the text encoder's additive −inf upper-triangular mask).
  void self_attention(const Tensor& x, const uint8_t* key_pad, bool causal, Tensor& y, int n_threads) const;
  // q_in [Lq, E], k_in / v_in [Lk, E] -> y [Lq, E] (preallocated).
  void cross_attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, const uint8_t* key_pad, Tensor& y,
                       int n_threads) const;

 private:
  // Runs softmax(q·kᵀ·scale)·v over packed rows (strides in floats) into o [Lq, E], then out_proj into y.
  void attend(const float* q, int64_t q_row, const float* k, int64_t k_row, const float* v, int64_t v_row,
              int64_t lq, int64_t lk, const uint8_t* key_pad, bool causal, Tensor& y, int n_threads) const;
};

// encoder.py TransformerEncoderLayer.forward_pre with pos_enc_at_attn = False, pos_enc_at_cross_attn_queries =
// False and pos_enc_at_cross_attn_keys configurable (no query_pos exists in the geometry encoder):
//   x = x + self_attn(LN1(x))                                  (key padding = tgt mask)
//   x = x + cross_attn(q = LN2(x), k = memory (+ pos), v = memory)
//   x = x + linear2(act(linear1(LN3(x))))
struct PreNormEncoderLayer {
  MultiheadAttention self_attn, cross_attn;
  nn::Linear linear1, linear2;
  nn::LayerNorm norm1, norm2, norm3;
  bool pos_at_cross_keys = true;
  bool relu = true;  // activation: "relu" (true) or "gelu"

  // p = "<...>.encode.{i}." (keys self_attn, cross_attn_image, linear1/2, norm1/2/3).
  static PreNormEncoderLayer load(const nn::ParamScope& p, int64_t dim, int64_t heads, int64_t ffn,
                                  const std::string& activation, bool pos_at_cross_keys);
  // x [L, E] updated in place; memory, memory_pos [M, E]; key_pad [L] (may be null).
  void forward(Tensor& x, const Tensor& memory, const Tensor& memory_pos, const uint8_t* key_pad,
               int n_threads) const;
};

}  // namespace sam3::prompt
