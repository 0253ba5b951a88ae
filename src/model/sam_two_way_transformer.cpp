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

// The weights of `ls` ([I_j, C] each) stacked row-wise -> [Σ I_j, C].
Tensor stack_weights(const std::vector<const nn::Linear*>& ls) {
  int64_t rows = 0;
  for (const nn::Linear* l : ls) rows += l->out_features;
  Tensor w = Tensor::empty({rows, ls.front()->in_features});
  float* dst = w.f32();
  for (const nn::Linear* l : ls) {
    const Tensor& src = f32_weight(*l);
    std::memcpy(dst, src.f32(), src.nbytes());
    dst += src.numel();
  }
  return w;
}

// The per-row addend of the stacked product: for each layer j, columns pe·W_jᵀ + b_j when it reads keys + pe,
// b_j on every row when it reads the keys alone. pe [HW, C] -> [HW, Σ I_j].
Tensor row_addend(const Tensor& pe, const std::vector<std::pair<const nn::Linear*, bool>>& ls) {
  const int64_t hw = pe.size(0);
  int64_t cols = 0;
  for (const auto& l : ls) cols += l.first->out_features;
  Tensor a = Tensor::empty({hw, cols});
  const RunContext ctx{1};
  int64_t c0 = 0;
  for (const auto& [l, with_pe] : ls) {
    const int64_t n = l->out_features;
    const float* b = l->bias.f32();
    Tensor part;
    if (with_pe) {
      part = Tensor::empty({hw, n});
      ops::linear(pe, f32_weight(*l), &l->bias, part, ctx);
    }
    for (int64_t r = 0; r < hw; ++r)
      std::memcpy(a.f32() + r * cols + c0, with_pe ? part.f32() + r * n : b, static_cast<size_t>(n) * sizeof(float));
    c0 += n;
  }
  return a;
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

  // The image-token projections stacked, with their positional-encoding terms and biases as per-row addends.
  check_tensor(image_pe, {image_pe.size(0), dim}, DType::F32, "SamTwoWayTransformer image_pe");
  hw_ = image_pe.size(0);
  for (Block& b : layers_) {
    const SamAttention &t2i = b.cross_token_to_image, &i2t = b.cross_image_to_token;
    b.kvq_w = stack_weights({&t2i.k_proj, &t2i.v_proj, &i2t.q_proj});
    b.kvq_add = row_addend(image_pe, {{&t2i.k_proj, true}, {&t2i.v_proj, false}, {&i2t.q_proj, true}});
    (void)f32_weight(i2t.out_proj);
  }
  final_kv_w_ = stack_weights({&final_attn_.k_proj, &final_attn_.v_proj});
  final_kv_add_ = row_addend(image_pe, {{&final_attn_.k_proj, true}, {&final_attn_.v_proj, false}});
}

Tensor SamTwoWayTransformer::first_block_kvq(const Tensor& src, const RunContext& ctx) const {
  const Block& b = layers_.front();
  Tensor kvq = Tensor::empty({src.size(0), b.kvq_w.size(0)});
  ops::linear_add(src, b.kvq_w, b.kvq_add, kvq, ctx);
  return kvq;
}

void SamTwoWayTransformer::forward(const SamImageTokens& image, const Tensor& points, Tensor& queries, Tensor& keys,
                                   const RunContext& ctx) const {
  if (!final_kv_w_.defined()) throw Error("SamTwoWayTransformer: built without the image positional encoding");
  check_tensor(image.src, {hw_, dim_}, DType::F32, "SamTwoWayTransformer image tokens");
  // queries / keys live in the caller's arena scope; every block's temporaries in its own.
  queries = ctx.scratch(points.shape());
  std::memcpy(queries.f32(), points.f32(), points.nbytes());
  keys = ctx.scratch(image.src.shape());
  const Tensor& query_pe = points;
  const Tensor* cur = &image.src;  // the keys entering the block (the image tokens, then `keys`)
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
    // The image tokens' projections: [k_proj(keys + pe) | v_proj(keys) | q_proj(keys + pe)] (keys change only at
    // the end of the block), from the cache for the first block when the caller has it.
    const int64_t I = b.cross_token_to_image.internal, row = b.kvq_w.size(0), T = queries.size(0);
    Tensor kvq;
    if (cur == &image.src && image.kvq.defined() && image.kvq.raw()) {
      check_tensor(image.kvq, {hw_, row}, DType::F32, "SamTwoWayTransformer cached projections");
      kvq = image.kvq;
    } else {
      kvq = ctx.scratch({hw_, row});
      ops::linear_add(*cur, b.kvq_w, b.kvq_add, kvq, ctx);
    }
    const float* kvq_p = kvq.f32();
    // Tokens attend to the image.
    {
      const SamAttention& a = b.cross_token_to_image;
      const Tensor qp = a.q_proj.forward(added(queries, query_pe, ctx), ctx);
      const Tensor o = a.attend(qp.f32(), I, T, kvq_p, row, kvq_p + I, row, hw_, ctx);
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
    // The image attends to the tokens: keys = norm4(keys + out_proj(o)), the product accumulated onto the keys and
    // its bias added inside the norm.
    {
      const SamAttention& a = b.cross_image_to_token;
      const Tensor kp = a.k_proj.forward(added(queries, query_pe, ctx), ctx);
      const Tensor vp = a.v_proj.forward(queries, ctx);
      const Tensor o = a.attend(kvq_p + 2 * I, row, hw_, kp.f32(), I, vp.f32(), I, T, ctx);
      ops::linear_add(o, a.out_proj.weight, *cur, keys, ctx);
      ops::bias_layer_norm(keys, a.out_proj.bias, b.norm4.weight, b.norm4.bias, b.norm4.eps, keys, ctx);
    }
    cur = &keys;
  }
  if (cur != &keys) std::memcpy(keys.f32(), cur->f32(), cur->nbytes());  // no blocks
  ArenaScope scope(ctx.arena);
  const SamAttention& a = final_attn_;
  const int64_t I = a.internal, row = final_kv_w_.size(0), T = queries.size(0);
  Tensor kv = ctx.scratch({hw_, row});
  ops::linear_add(*cur, final_kv_w_, final_kv_add_, kv, ctx);
  const Tensor qp = a.q_proj.forward(added(queries, query_pe, ctx), ctx);
  const Tensor o = a.attend(qp.f32(), I, T, kv.f32(), row, kv.f32() + I, row, hw_, ctx);
  ops::add(queries, a.out_proj.forward(o, ctx), queries, ctx);
  norm_final_.forward(queries, queries, ctx);
}

}  // namespace sam3
