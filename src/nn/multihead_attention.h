// sam3.cpp — torch.nn.MultiheadAttention (batch 1, eval mode), built from a key prefix: in_proj_weight [3E, E] =
// [Wq; Wk; Wv], in_proj_bias [3E], out_proj (E -> E). Weights are borrowed from the checkpoint, never copied.
//   y = out_proj(concat_h softmax(q_h·k_hᵀ / sqrt(E/heads) + mask) · v_h),  q = query·Wqᵀ + bq, likewise k, v.
// Used by the text encoder (causal), the geometry and fusion encoder layers, the decoder (with the box
// relative-position bias) and the segmentation head.
// ref: torch.nn.MultiheadAttention (torch 1.13 F.multi_head_attention_forward)
#pragma once
#include <cstdint>

#include "core/context.h"
#include "core/tensor.h"
#include "nn/linear.h"
#include "nn/params.h"

namespace sam3::nn {

// Additive attention bias for query rows [first_row, Lq): bias(h, i, j) = data[h*head_stride + (i-first_row)*Lk + j].
// Rows before first_row get no bias (the decoder's presence token).
struct AttnBias {
  const float* data = nullptr;
  int64_t head_stride = 0;
  int64_t first_row = 0;
};

// The masks MultiheadAttention.forward takes, in the forms SAM 3 uses; all optional.
struct AttnMask {
  const uint8_t* key_pad = nullptr;  // key_padding_mask [Lk]: key j is excluded when key_pad[j] != 0
  bool causal = false;               // attn_mask = −inf above the diagonal: query i sees keys 0..i (Lq == Lk)
  AttnBias bias;                     // float attn_mask added to the logits (not with causal)

  static AttnMask padding(const uint8_t* key_pad) {
    AttnMask m;
    m.key_pad = key_pad;
    return m;
  }
  static AttnMask causal_mask() {
    AttnMask m;
    m.causal = true;
    return m;
  }
};

struct MultiheadAttention {
  Tensor in_weight, in_bias;  // [3E, E] as stored (F32, or a converted file's BF16 / I8 / F16 when packed), [3E]
  // Reduced precision: Wq, Wk, Wv packed separately (null: f32, one packed [L, 3E] product when q = k = v).
  PackedRef in_packed[3];
  Linear out_proj;
  int64_t dim = 0, heads = 0;
  bool bf16_products = false;  // attention in bf16 (ops::attention_in_bf16 of the scope's precision)

  // Keys <prefix>in_proj_weight, <prefix>in_proj_bias, <prefix>out_proj.{weight,bias}. The projections are packed
  // to p.precision() unless that is F32; the attention's products follow ops::attention_in_bf16(p.precision()).
  static MultiheadAttention load(const ParamScope& p, int64_t dim, int64_t heads);

  // query [Lq, E], key / value [Lk, E] (a leading 1 dimension allowed, e.g. [L, 1, E]) -> [Lq, E].
  // Inputs that are the same tensor share their projection GEMM (q = k = v: one packed [L, 3E] product, as
  // torch's _in_projection_packed does). The projections and the result come from ctx's scratch (the arena when
  // there is one: valid until the caller's ArenaScope ends).
  Tensor forward(const Tensor& query, const Tensor& key, const Tensor& value, const AttnMask& mask,
                 const RunContext& ctx) const;
};

}  // namespace sam3::nn
