// sam3.cpp — SAM's two-way transformer: prompt tokens and image tokens attend to each other (token self-attention,
// token->image, MLP, image->token per block, then a final token->image attention), with attention layers that
// project to a down-sampled width.
//
// The projections of the HW image tokens are the costly part. k_proj(keys + pe) = keys·Wkᵀ + (pe·Wkᵀ + bk): the
// second term depends only on the grid and is computed once at construction, for token->image's keys and
// image->token's queries. Token->image attention (8 or so prompt tokens over the HW image tokens) never forms its
// keys and values: ops::few_query_attention folds Wk into the queries and Wv after the weighted sum. For picks
// without a mask input the first block's projections depend only on the image: first_block() computes them once
// per image for the caller to cache.
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
  bool bf16_products = false;  // attention in bf16 (ops::attention_in_bf16 of the scope's precision)

  static SamAttention load(const nn::ParamScope& p, int64_t dim, int64_t heads, int64_t downsample);
  // q [Lq, dim], k / v [Lk, dim] -> [Lq, dim], from ctx's scratch (valid until the caller's ArenaScope ends).
  Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, const RunContext& ctx) const;
  // SDPA on projected rows (row strides in floats, `internal` values each) -> [lq, internal] from ctx's scratch.
  Tensor attend(const float* q, int64_t q_row, int64_t lq, const float* k, int64_t k_row, const float* v, int64_t v_row,
                int64_t lk, const RunContext& ctx) const;
};

// The image side of a pick that has no mask input: the same for every such pick on one image.
struct SamImageTokens {
  Tensor src;  // [HW, C] image_embed + dense prompt embedding, as tokens
  // The first block's projections of src, [HW, I] each (undefined: not cached, computed per pick): token->image's
  // keys and values, image->token's queries.
  Tensor k, v, q;
  size_t bytes() const {
    size_t n = 0;
    for (const Tensor* t : {&src, &k, &v, &q}) n += t->raw() ? t->nbytes() : 0;
    return n;
  }
};

class SamTwoWayTransformer {
 public:
  // `p` is the scope "tracker.sam_mask_decoder.transformer."; image_pe [HW, C] the dense positional encoding as
  // tokens (undefined while collecting the expected weights: nothing is precomputed then).
  SamTwoWayTransformer(const TwoWayTransformerConfig& cfg, int64_t dim, const nn::ParamScope& p,
                       const Tensor& image_pe);

  // The first block's projections of t.src [HW, C] into t.k, t.v, t.q (heap, for a cache).
  void first_block(SamImageTokens& t, const RunContext& ctx) const;

  // image.src [HW, C] (and image.k / v / q when defined), points [T, C] -> (queries [T, C], keys [HW, C]), from ctx's
  // scratch (valid until the caller's ArenaScope ends).
  void forward(const SamImageTokens& image, const Tensor& points, Tensor& queries, Tensor& keys,
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
    Tensor k_add;  // [HW, I] token->image pe·Wkᵀ + bk
    Tensor q_add;  // [HW, I] image->token pe·Wqᵀ + bq
  };
  std::vector<Block> layers_;
  SamAttention final_attn_;
  nn::LayerNorm norm_final_;
  Tensor final_k_add_;  // [HW, I] final_attn_token_to_image pe·Wkᵀ + bk
  int64_t dim_ = 0, hw_ = 0;
};

}  // namespace sam3
