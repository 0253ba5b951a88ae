// ref: sam3/sam/transformer.py (TwoWayTransformer, TwoWayAttentionBlock, Attention)
#include "model/sam_two_way_transformer.h"

#include <cmath>
#include <cstring>

#include "core/arena.h"
#include "core/ops.h"

namespace sam3 {

namespace {

Tensor added(const Tensor& a, const Tensor& b, const RunContext& ctx) {
  Tensor y = ctx.scratch(a.shape());
  ops::add(a, b, y, ctx);
  return y;
}

}  // namespace

SamAttention SamAttention::load(const nn::ParamScope& p, int64_t dim, int64_t heads, int64_t downsample) {
  SamAttention a;
  a.heads = heads;
  a.internal = dim / downsample;
  a.q_proj = nn::Linear::load(p.sub("q_proj"), dim, a.internal);
  a.k_proj = nn::Linear::load(p.sub("k_proj"), dim, a.internal);
  a.v_proj = nn::Linear::load(p.sub("v_proj"), dim, a.internal);
  a.out_proj = nn::Linear::load(p.sub("out_proj"), a.internal, dim);
  return a;
}

Tensor SamAttention::forward(const Tensor& q, const Tensor& k, const Tensor& v, const RunContext& ctx) const {
  const int64_t lq = q.size(0), lk = k.size(0), hd = internal / heads;
  Tensor qp = ctx.scratch({lq, internal}), kp = ctx.scratch({lk, internal}), vp = ctx.scratch({lk, internal});
  q_proj.forward(q, qp, ctx);
  k_proj.forward(k, kp, ctx);
  v_proj.forward(v, vp, ctx);
  Tensor o = ctx.scratch({lq, internal});
  ops::AttentionArgs a;
  a.q = qp.f32();
  a.q_row = internal;
  a.q_head = hd;
  a.k = kp.f32();
  a.k_row = internal;
  a.k_head = hd;
  a.v = vp.f32();
  a.v_row = internal;
  a.v_head = hd;
  a.out = o.f32();
  a.o_row = internal;
  a.o_head = hd;
  a.n_heads = heads;
  a.lq = lq;
  a.lk = lk;
  a.head_dim = hd;
  a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  ops::attention(a, ctx);
  Tensor y = ctx.scratch({lq, out_proj.out_features});
  out_proj.forward(o, y, ctx);
  return y;
}

SamTwoWayTransformer::SamTwoWayTransformer(const TwoWayTransformerConfig& cfg, int64_t dim, const nn::ParamScope& p) {
  const double eps = nn::kLayerNormEps;
  for (int i = 0; i < cfg.depth; ++i) {
    const nn::ParamScope l = p.sub("layers").sub(i);
    Block b;
    b.self_attn = SamAttention::load(l.sub("self_attn"), dim, cfg.num_heads, 1);
    b.norm1 = nn::LayerNorm::load(l.sub("norm1"), dim, eps);
    b.cross_token_to_image =
        SamAttention::load(l.sub("cross_attn_token_to_image"), dim, cfg.num_heads, cfg.attention_downsample_rate);
    b.norm2 = nn::LayerNorm::load(l.sub("norm2"), dim, eps);
    b.lin1 = nn::Linear::load(l.sub("mlp").sub("lin1"), dim, cfg.mlp_dim);
    b.lin2 = nn::Linear::load(l.sub("mlp").sub("lin2"), cfg.mlp_dim, dim);
    b.norm3 = nn::LayerNorm::load(l.sub("norm3"), dim, eps);
    b.norm4 = nn::LayerNorm::load(l.sub("norm4"), dim, eps);
    b.cross_image_to_token =
        SamAttention::load(l.sub("cross_attn_image_to_token"), dim, cfg.num_heads, cfg.attention_downsample_rate);
    b.skip_first_layer_pe = i == 0;
    layers_.push_back(std::move(b));
  }
  final_attn_ =
      SamAttention::load(p.sub("final_attn_token_to_image"), dim, cfg.num_heads, cfg.attention_downsample_rate);
  norm_final_ = nn::LayerNorm::load(p.sub("norm_final_attn"), dim, eps);
}

void SamTwoWayTransformer::forward(const Tensor& image, const Tensor& image_pe, const Tensor& points, Tensor& queries,
                                   Tensor& keys, const RunContext& ctx) const {
  // queries / keys live in the caller's arena scope; every block's temporaries in its own.
  queries = ctx.scratch(points.shape());
  std::memcpy(queries.f32(), points.f32(), points.nbytes());
  keys = ctx.scratch(image.shape());
  std::memcpy(keys.f32(), image.f32(), image.nbytes());
  const Tensor& query_pe = points;
  for (const Block& b : layers_) {
    ArenaScope scope(ctx.arena);
    // Self attention (the first block has no positions and no residual).
    if (b.skip_first_layer_pe) {
      const Tensor o = b.self_attn.forward(queries, queries, queries, ctx);
      std::memcpy(queries.f32(), o.f32(), o.nbytes());
    } else {
      const Tensor q = added(queries, query_pe, ctx);
      const Tensor o = b.self_attn.forward(q, q, queries, ctx);
      ops::add(queries, o, queries, ctx);
    }
    b.norm1.forward(queries, queries, ctx);
    // keys + key_pe: the same for both cross attentions of the block (keys change only at its end).
    const Tensor k = added(keys, image_pe, ctx);
    // Tokens attend to the image.
    {
      const Tensor q = added(queries, query_pe, ctx);
      const Tensor o = b.cross_token_to_image.forward(q, k, keys, ctx);
      ops::add(queries, o, queries, ctx);
      b.norm2.forward(queries, queries, ctx);
    }
    // MLP (ReLU).
    {
      Tensor h = ctx.scratch({queries.size(0), b.lin1.out_features});
      b.lin1.forward(queries, h, ctx);
      ops::relu_inplace(h, ctx);
      Tensor o = ctx.scratch(queries.shape());
      b.lin2.forward(h, o, ctx);
      ops::add(queries, o, queries, ctx);
      b.norm3.forward(queries, queries, ctx);
    }
    // The image attends to the tokens.
    {
      const Tensor q = added(queries, query_pe, ctx);
      const Tensor o = b.cross_image_to_token.forward(k, q, queries, ctx);
      ops::add(keys, o, keys, ctx);
      b.norm4.forward(keys, keys, ctx);
    }
  }
  ArenaScope scope(ctx.arena);
  const Tensor q = added(queries, query_pe, ctx), k = added(keys, image_pe, ctx);
  const Tensor o = final_attn_.forward(q, k, keys, ctx);
  ops::add(queries, o, queries, ctx);
  norm_final_.forward(queries, queries, ctx);
}

}  // namespace sam3
