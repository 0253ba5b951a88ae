// sam3.cpp — encoder.py's TransformerEncoderLayer in its pre-norm form (eval, dac = False), shared by the fusion
// encoder (image tokens attending to the prompt) and the geometry encoder (box tokens attending to the image):
//   x = x + self_attn(q = k = LN1(x) (+ query_pos), v = LN1(x))                  key padding: tgt_key_pad
//   x = x + cross_attn_image(q = LN2(x) (+ query_pos), k = memory (+ memory_pos), v = memory)
//                                                                              key padding: memory_key_pad
//   x = x + linear2(act(linear1(LN3(x))))
// Each "(+ pos)" is applied when its pos_enc_at_* flag is set and the position tensor is given.
// ref: sam3/model/encoder.py (TransformerEncoderLayer.forward_pre)
#pragma once
#include <cstdint>
#include <string>

#include "core/context.h"
#include "core/tensor.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/multihead_attention.h"
#include "nn/params.h"

namespace sam3 {

struct TransformerEncoderLayer {
  // The layer's hyper-parameters (EncoderConfig / GeometryConfig fields of the same names).
  struct Options {
    int64_t d_model = 0, num_heads = 0, dim_feedforward = 0;
    std::string activation = "relu";  // "relu" or "gelu"
    bool pos_enc_at_attn = false;
    bool pos_enc_at_cross_attn_queries = false;
    bool pos_enc_at_cross_attn_keys = false;

    // From a config section that has these fields (EncoderConfig, GeometryConfig).
    template <class Section>
    static Options from(const Section& s, int64_t d_model) {
      Options o;
      o.d_model = d_model;
      o.num_heads = s.num_heads;
      o.dim_feedforward = s.dim_feedforward;
      o.activation = s.activation;
      o.pos_enc_at_attn = s.pos_enc_at_attn;
      o.pos_enc_at_cross_attn_queries = s.pos_enc_at_cross_attn_queries;
      o.pos_enc_at_cross_attn_keys = s.pos_enc_at_cross_attn_keys;
      return o;
    }
  };

  nn::MultiheadAttention self_attn, cross_attn_image;
  nn::Linear linear1, linear2;
  nn::LayerNorm norm1, norm2, norm3;
  Options opt;

  // p = the layer's scope (keys self_attn, cross_attn_image, linear1/2, norm1/2/3).
  static TransformerEncoderLayer load(const nn::ParamScope& p, const Options& opt);

  // tgt [L, E] updated in place; memory [M, E]; query_pos [L, E] and memory_pos [M, E] may be undefined (no
  // encoding); tgt_key_pad [L] and memory_key_pad [M] may be null.
  void forward(Tensor& tgt, const Tensor& memory, const Tensor& query_pos, const Tensor& memory_pos,
               const uint8_t* tgt_key_pad, const uint8_t* memory_key_pad, const RunContext& ctx) const;
  // forward() in its two halves: the self-attention, then the cross-attention and the FFN. The first half of the
  // fusion encoder's layer 0 sees only the image, so prompts on one image share it (FusionEncoder::image_prefix).
  void forward_self(Tensor& tgt, const Tensor& query_pos, const uint8_t* tgt_key_pad, const RunContext& ctx) const;
  void forward_cross_ffn(Tensor& tgt, const Tensor& memory, const Tensor& query_pos, const Tensor& memory_pos,
                         const uint8_t* memory_key_pad, const RunContext& ctx) const;
};

}  // namespace sam3
