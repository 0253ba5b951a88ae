// sam3.cpp — SAM's two-way transformer: prompt tokens and image tokens attend to each other (token self-attention,
// token->image, MLP, image->token per block, then a final token->image attention), with attention layers that
// project to a down-sampled width.
// ref: sam3/sam/transformer.py (TwoWayTransformer, TwoWayAttentionBlock, Attention), sam3/sam/common.py (MLPBlock)
#pragma once
#include <cstdint>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "model/config.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/params.h"

namespace sam3 {

// transformer.Attention: q/k/v projections to dim/downsample, multi-head SDPA, out_proj back to dim.
struct SamAttention {
  nn::Linear q_proj, k_proj, v_proj, out_proj;
  int64_t heads = 0, internal = 0;

  static SamAttention load(const nn::ParamScope& p, int64_t dim, int64_t heads, int64_t downsample);
  // q [Lq, dim], k / v [Lk, dim] -> [Lq, dim], from ctx's scratch (valid until the caller's ArenaScope ends).
  Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, const RunContext& ctx) const;
};

class SamTwoWayTransformer {
 public:
  // `p` is the scope "tracker.sam_mask_decoder.transformer.".
  SamTwoWayTransformer(const TwoWayTransformerConfig& cfg, int64_t dim, const nn::ParamScope& p);

  // image [HW, C] tokens, image_pe [HW, C], points [T, C] -> (queries [T, C], keys [HW, C]), from ctx's scratch
  // (valid until the caller's ArenaScope ends).
  void forward(const Tensor& image, const Tensor& image_pe, const Tensor& points, Tensor& queries, Tensor& keys,
               const RunContext& ctx) const;

 private:
  struct Block {
    SamAttention self_attn;
    nn::LayerNorm norm1;
    SamAttention cross_token_to_image;
    nn::LayerNorm norm2;
    nn::Linear lin1, lin2;  // mlp (ReLU)
    nn::LayerNorm norm3, norm4;
    SamAttention cross_image_to_token;
    bool skip_first_layer_pe = false;
  };
  std::vector<Block> layers_;
  SamAttention final_attn_;
  nn::LayerNorm norm_final_;
};

}  // namespace sam3
