// ref: sam3/sam/transformer.py (TwoWayTransformer, TwoWayAttentionBlock, Attention)
#include "model/sam_two_way_transformer.h"

#include <cmath>
#include <cstring>
#include <utility>

#include "core/arena.h"
#include "core/error.h"
#include "core/ops.h"

namespace sam3 {

namespace {

Tensor added(const Tensor& a, const Tensor& b, const RunContext& ctx) {
  Tensor y = ctx.scratch(a.shape());
  ops::add(a, b, y, ctx);
  return y;
}

const Tensor& f32_weight(const nn::Linear& l) {
  if (l.packed || l.weight.dtype() != DType::F32 || !l.bias.defined())
    throw Error("SamTwoWayTransformer: the image-token projections need f32 weights with a bias");
  return l.weight;
}

// pe·wᵀ + b of a projection of keys + pe: [HW, out].
Tensor pe_projection(const Tensor& pe, const nn::Linear& l) {
  Tensor y = Tensor::empty({pe.size(0), l.out_features});
  ops::linear(pe, f32_weight(l), &l.bias, y, RunContext{1});
  return y;
}

// Token->image attention of the projected queries qp [T, I] over the image tokens x [HW, C], whose keys are
// k_proj(x + pe) (k_add = pe·Wkᵀ + bk) and values v_proj(x) -> [T, I].
Tensor few_query(const SamAttention& a, const Tensor& qp, const Tensor& x, const Tensor& k_add, const RunContext& ctx) {
  Tensor o = ctx.scratch({qp.size(0), a.internal});
  ops::FewQueryAttentionArgs f;
  f.q = qp.f32();
  f.x = x.f32();
  f.k_add = k_add.f32();
  f.wk = a.k_proj.weight.f32();
  f.wv = a.v_proj.weight.f32();
  f.bv = a.v_proj.bias.f32();
  f.out = o.f32();
  f.lq = qp.size(0);
  f.lk = x.size(0);
  f.c = x.size(1);
  f.internal = a.internal;
  f.n_heads = a.heads;
  f.x_row = x.size(1);
  f.k_add_row = a.internal;
  f.scale = 1.0f / std::sqrt(static_cast<float>(a.internal / a.heads));
  ops::few_query_attention(f, ctx);
  return o;
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
  a.bf16_products = ops::attention_in_bf16(p.precision());
  return a;
}

Tensor SamAttention::attend(const float* q, int64_t q_row, int64_t lq, const float* k, int64_t k_row, const float* v,
                            int64_t v_row, int64_t lk, const RunContext& ctx) const {
  const int64_t hd = internal / heads;
  Tensor o = ctx.scratch({lq, internal});
  ops::AttentionArgs a;
  a.q = q;
  a.q_row = q_row;
  a.q_head = hd;
  a.k = k;
  a.k_row = k_row;
  a.k_head = hd;
  a.v = v;
  a.v_row = v_row;
  a.v_head = hd;
  a.out = o.f32();
  a.o_row = internal;
  a.o_head = hd;
  a.n_heads = heads;
  a.lq = lq;
  a.lk = lk;
  a.head_dim = hd;
  a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  a.bf16 = bf16_products;
  ops::attention(a, ctx);
  return o;
}

Tensor SamAttention::forward(const Tensor& q, const Tensor& k, const Tensor& v, const RunContext& ctx) const {
  const int64_t lq = q.size(0), lk = k.size(0);
  Tensor qp = ctx.scratch({lq, internal}), kp = ctx.scratch({lk, internal}), vp = ctx.scratch({lk, internal});
  q_proj.forward(q, qp, ctx);
  k_proj.forward(k, kp, ctx);
  v_proj.forward(v, vp, ctx);
  const Tensor o = attend(qp.f32(), internal, lq, kp.f32(), internal, vp.f32(), internal, lk, ctx);
  Tensor y = ctx.scratch({lq, out_proj.out_features});
  out_proj.forward(o, y, ctx);
  return y;
}

SamTwoWayTransformer::SamTwoWayTransformer(const TwoWayTransformerConfig& cfg, int64_t dim, const nn::ParamScope& p,
                                           const Tensor& image_pe)
    : dim_(dim) {
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
  if (p.collecting() || !image_pe.defined() || !image_pe.raw()) return;

  // The positional encoding's share of the image-token projections (with their biases), per model.
  check_tensor(image_pe, {image_pe.size(0), dim}, DType::F32, "SamTwoWayTransformer image_pe");
  hw_ = image_pe.size(0);
  for (Block& b : layers_) {
    const SamAttention &t2i = b.cross_token_to_image, &i2t = b.cross_image_to_token;
    b.k_add = pe_projection(image_pe, t2i.k_proj);
    b.q_add = pe_projection(image_pe, i2t.q_proj);
    for (const nn::Linear* l : {&t2i.v_proj, &i2t.out_proj}) (void)f32_weight(*l);
  }
  final_k_add_ = pe_projection(image_pe, final_attn_.k_proj);
  (void)f32_weight(final_attn_.v_proj);
}

void SamTwoWayTransformer::first_block(SamImageTokens& t, const RunContext& ctx) const {
  const Block& b = layers_.front();
  const SamAttention &t2i = b.cross_token_to_image, &i2t = b.cross_image_to_token;
  const int64_t hw = t.src.size(0);
  t.k = Tensor::empty({hw, t2i.internal});
  t.v = Tensor::empty({hw, t2i.internal});
  t.q = Tensor::empty({hw, i2t.internal});
  ops::linear_add(t.src, t2i.k_proj.weight, b.k_add, t.k, ctx);
  t2i.v_proj.forward(t.src, t.v, ctx);
  ops::linear_add(t.src, i2t.q_proj.weight, b.q_add, t.q, ctx);
}

void SamTwoWayTransformer::forward(const SamImageTokens& image, const Tensor& points, Tensor& queries, Tensor& keys,
                                   const RunContext& ctx) const {
  if (!final_k_add_.defined()) throw Error("SamTwoWayTransformer: built without the image positional encoding");
  check_tensor(image.src, {hw_, dim_}, DType::F32, "SamTwoWayTransformer image tokens");
  const bool cached = image.q.defined() && image.q.raw() && !layers_.empty();
  if (cached) {
    const int64_t I = layers_.front().cross_token_to_image.internal;
    check_tensor(image.k, {hw_, I}, DType::F32, "SamTwoWayTransformer cached keys");
    check_tensor(image.v, {hw_, I}, DType::F32, "SamTwoWayTransformer cached values");
    check_tensor(image.q, {hw_, layers_.front().cross_image_to_token.internal}, DType::F32,
                 "SamTwoWayTransformer cached queries");
  }
  // queries / keys live in the caller's arena scope; every block's temporaries in its own.
  queries = ctx.scratch(points.shape());
  std::memcpy(queries.f32(), points.f32(), points.nbytes());
  keys = ctx.scratch(image.src.shape());
  const Tensor& query_pe = points;
  const Tensor* cur = &image.src;  // the keys entering the block (the image tokens, then `keys`)
  for (const Block& b : layers_) {
    ArenaScope scope(ctx.arena);
    const bool from_cache = cached && cur == &image.src;
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
    const int64_t T = queries.size(0);
    // Tokens attend to the image (keys + pe, keys): keys change only at the end of the block.
    {
      const SamAttention& a = b.cross_token_to_image;
      const Tensor qp = a.q_proj.forward(added(queries, query_pe, ctx), ctx);
      const Tensor o = from_cache ? a.attend(qp.f32(), a.internal, T, image.k.f32(), a.internal, image.v.f32(),
                                             a.internal, hw_, ctx)
                                  : few_query(a, qp, *cur, b.k_add, ctx);
      ops::add(queries, a.out_proj.forward(o, ctx), queries, ctx);
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
    // The image attends to the tokens: queries q_proj(keys + pe) = keys·Wqᵀ + q_add; keys = norm4(keys +
    // out_proj(o)), the product accumulated onto the keys and its bias added inside the norm.
    {
      const SamAttention& a = b.cross_image_to_token;
      Tensor qi = image.q;
      if (!from_cache) {
        qi = ctx.scratch({hw_, a.internal});
        ops::linear_add(*cur, a.q_proj.weight, b.q_add, qi, ctx);
      }
      const Tensor kp = a.k_proj.forward(added(queries, query_pe, ctx), ctx);
      const Tensor vp = a.v_proj.forward(queries, ctx);
      const Tensor o = a.attend(qi.f32(), a.internal, hw_, kp.f32(), a.internal, vp.f32(), a.internal, T, ctx);
      ops::linear_add(o, a.out_proj.weight, *cur, keys, ctx);
      ops::bias_layer_norm(keys, a.out_proj.bias, b.norm4.weight, b.norm4.bias, b.norm4.eps, keys, ctx);
    }
    cur = &keys;
  }
  if (cur != &keys) std::memcpy(keys.f32(), cur->f32(), cur->nbytes());  // no blocks
  ArenaScope scope(ctx.arena);
  const SamAttention& a = final_attn_;
  const Tensor qp = a.q_proj.forward(added(queries, query_pe, ctx), ctx);
  const Tensor o = few_query(a, qp, keys, final_k_add_, ctx);
  ops::add(queries, a.out_proj.forward(o, ctx), queries, ctx);
  norm_final_.forward(queries, queries, ctx);
}

}  // namespace sam3
