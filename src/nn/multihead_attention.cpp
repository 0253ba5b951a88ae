// sam3.cpp — torch.nn.MultiheadAttention (see nn/multihead_attention.h).
// ref: torch.nn.MultiheadAttention (F.multi_head_attention_forward, _in_projection_packed)
#include "nn/multihead_attention.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/ops.h"

namespace sam3::nn {

MultiheadAttention MultiheadAttention::load(const ParamScope& p, int64_t dim, int64_t heads) {
  if (heads <= 0 || dim % heads != 0)
    throw Error("MultiheadAttention '" + p.prefix() + "': embed dim " + std::to_string(dim) + " is not divisible by " +
                std::to_string(heads) + " heads");
  MultiheadAttention m;
  m.dim = dim;
  m.heads = heads;
  const StoredWeight w = p.matmul_weight("in_proj_weight", {3 * dim, dim});
  m.in_weight = w.weight;
  m.in_bias = p.get("in_proj_bias", {3 * dim});
  const std::vector<PackedRef> packed = pack_row_ranges(p, w, {0, dim, 2 * dim, 3 * dim});
  for (int i = 0; i < 3; ++i) m.in_packed[i] = packed[static_cast<size_t>(i)];
  m.out_proj = Linear::load(p.sub("out_proj"), dim, dim);
  m.bf16_products = ops::attention_in_bf16(p.precision());
  return m;
}

namespace {

bool same_tensor(const Tensor& a, const Tensor& b) { return a.raw() == b.raw() && a.shape() == b.shape(); }

// Rows [r0, r1) of the packed projection: y [L, r1-r0] = x · W[r0:r1]ᵀ + b[r0:r1].
Tensor project(const Tensor& x, const Tensor& w, const Tensor& b, int64_t r0, int64_t r1, const RunContext& ctx) {
  const int64_t e = w.size(1);
  const Tensor wr = w.slice0(r0, r1), br = b.slice0(r0, r1);
  Tensor y = ctx.scratch({x.numel() / e, r1 - r0});
  ops::linear(x, wr, &br, y, ctx);
  return y;
}

// Part i (0: q, 1: k, 2: v) of the projection with a packed weight [E, E]: y [L, E].
Tensor project_packed(const Tensor& x, const ops::PackedWeight& w, const Tensor& b, int64_t e, int i,
                      const RunContext& ctx) {
  const Tensor br = b.slice0(i * e, (i + 1) * e);
  Tensor y = ctx.scratch({x.numel() / e, e});
  ops::linear(x, w, &br, y, ctx);
  return y;
}

}  // namespace

Tensor MultiheadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value, const AttnMask& mask,
                                   const RunContext& ctx) const {
  const int64_t E = dim, hd = dim / heads;
  if (query.size(-1) != E || key.size(-1) != E || value.size(-1) != E || key.numel() != value.numel())
    throw Error("MultiheadAttention: bad input shapes q " + shape_str(query.shape()) + ", k " +
                shape_str(key.shape()) + ", v " + shape_str(value.shape()) + " for embed dim " + std::to_string(E));
  const int64_t lq = query.numel() / E, lk = key.numel() / E;
  if (mask.causal && (lq != lk || mask.bias.data))
    throw Error("MultiheadAttention: causal attention needs as many queries as keys and no bias");

  // Projections; each of q/k/v is addressed as (pointer, row stride).
  Tensor qkv, qk, kv, qt, kt, vt;
  const float *q, *k, *v;
  int64_t q_row = E, k_row = E, v_row = E;
  if (in_packed[0]) {  // reduced precision: three products (the packed weights cannot be sliced)
    qt = project_packed(query, *in_packed[0], in_bias, E, 0, ctx);
    kt = project_packed(key, *in_packed[1], in_bias, E, 1, ctx);
    vt = project_packed(value, *in_packed[2], in_bias, E, 2, ctx);
    q = qt.f32();
    k = kt.f32();
    v = vt.f32();
  } else if (same_tensor(query, key) && same_tensor(key, value)) {
    qkv = project(query, in_weight, in_bias, 0, 3 * E, ctx);
    q = qkv.f32();
    k = q + E;
    v = q + 2 * E;
    q_row = k_row = v_row = 3 * E;
  } else if (same_tensor(query, key)) {
    qk = project(query, in_weight, in_bias, 0, 2 * E, ctx);
    q = qk.f32();
    k = qk.f32() + E;
    q_row = k_row = 2 * E;
    vt = project(value, in_weight, in_bias, 2 * E, 3 * E, ctx);
    v = vt.f32();
  } else if (same_tensor(key, value)) {
    qt = project(query, in_weight, in_bias, 0, E, ctx);
    q = qt.f32();
    kv = project(key, in_weight, in_bias, E, 3 * E, ctx);
    k = kv.f32();
    v = kv.f32() + E;
    k_row = v_row = 2 * E;
  } else {
    qt = project(query, in_weight, in_bias, 0, E, ctx);
    kt = project(key, in_weight, in_bias, E, 2 * E, ctx);
    vt = project(value, in_weight, in_bias, 2 * E, 3 * E, ctx);
    q = qt.f32();
    k = kt.f32();
    v = vt.f32();
  }

  Tensor o = ctx.scratch({lq, E});  // heads concatenated
  ops::AttentionArgs a;
  a.k = k;
  a.k_row = k_row;
  a.k_head = hd;
  a.v = v;
  a.v_row = v_row;
  a.v_head = hd;
  a.q_row = q_row;
  a.q_head = hd;
  a.o_row = E;
  a.o_head = hd;
  a.n_heads = heads;
  a.lk = lk;
  a.head_dim = hd;
  a.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  a.key_pad = mask.key_pad;
  a.bf16 = bf16_products;
  if (mask.causal) {  // query i attends over keys 0..i
    a.q = q;
    a.out = o.f32();
    a.lq = lq;
    a.causal = true;
    ops::attention(a, ctx);
    return out_proj.forward(o, ctx);
  }
  // Rows without bias, then rows with bias.
  const int64_t split = mask.bias.data ? std::min(mask.bias.first_row, lq) : lq;
  if (split > 0) {
    a.q = q;
    a.out = o.f32();
    a.lq = split;
    ops::attention(a, ctx);
  }
  if (split < lq) {
    a.q = q + split * q_row;
    a.out = o.f32() + split * E;
    a.lq = lq - split;
    a.bias = mask.bias.data;
    a.bias_head = mask.bias.head_stride;
    ops::attention(a, ctx);
  }
  return out_proj.forward(o, ctx);
}

}  // namespace sam3::nn
