// sam3.cpp — detector-head building blocks (see detector_blocks.h).
#include "model/detector_blocks.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/ops.h"

namespace sam3::det {

Tensor linear(const nn::Linear& l, const Tensor& x, int n_threads) {
  Shape s = x.shape();
  if (s.empty() || s.back() != l.in_features)
    throw Error("Linear: input " + shape_str(s) + " does not end in " + std::to_string(l.in_features));
  s.back() = l.out_features;
  Tensor y = Tensor::empty(s);
  l.forward(x, y, n_threads);
  return y;
}

Tensor layer_norm(const nn::LayerNorm& n, const Tensor& x, int n_threads) {
  Tensor y = Tensor::empty(x.shape());
  n.forward(x, y, n_threads);
  return y;
}

Mlp Mlp::load(const nn::ParamScope& p, int64_t in, int64_t hidden, int64_t out, int n_layers) {
  Mlp m;
  for (int k = 0; k < n_layers; ++k) {
    const int64_t i = k == 0 ? in : hidden;
    const int64_t o = k == n_layers - 1 ? out : hidden;
    m.layers.push_back(nn::Linear::load(p.sub("layers").sub(k), i, o));
  }
  return m;
}

Tensor Mlp::forward(const Tensor& x, int n_threads) const {
  Tensor h = x;
  for (size_t k = 0; k < layers.size(); ++k) {
    h = linear(layers[k], h, n_threads);
    if (k + 1 < layers.size()) ops::relu_inplace(h, n_threads);
  }
  return h;
}

MultiheadAttention MultiheadAttention::load(const nn::ParamScope& p, int64_t dim, int64_t heads) {
  if (heads <= 0 || dim % heads != 0)
    throw Error(p.prefix() + ": embed dim " + std::to_string(dim) + " not divisible by " + std::to_string(heads) + " heads");
  MultiheadAttention m;
  m.dim = dim;
  m.heads = heads;
  m.in_weight = p.get("in_proj_weight", {3 * dim, dim});
  m.in_bias = p.get("in_proj_bias", {3 * dim});
  m.out_proj = nn::Linear::load(p.sub("out_proj"), dim, dim);
  return m;
}

namespace {

bool same_tensor(const Tensor& a, const Tensor& b) { return a.raw() == b.raw() && a.shape() == b.shape(); }

// Rows [r0, r1) of the packed projection: y[L, (r1-r0)] = x · W[r0:r1]ᵀ + b[r0:r1].
Tensor project(const Tensor& x, const Tensor& w, const Tensor& b, int64_t r0, int64_t r1, int n_threads) {
  const int64_t e = w.size(1);
  Tensor wr = w.slice0(r0, r1), br = b.slice0(r0, r1);
  Tensor y = Tensor::empty({x.numel() / e, r1 - r0});
  ops::linear(x, wr, &br, y, n_threads);
  return y;
}

}  // namespace

Tensor MultiheadAttention::forward(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, const uint8_t* key_pad,
                                   const AttnBias& bias, int n_threads) const {
  const int64_t E = dim, hd = dim / heads;
  if (q_in.size(-1) != E || k_in.size(-1) != E || v_in.size(-1) != E || k_in.numel() != v_in.numel())
    throw Error("MultiheadAttention: bad input shapes q " + shape_str(q_in.shape()) + ", k " + shape_str(k_in.shape()) +
                ", v " + shape_str(v_in.shape()) + " for embed dim " + std::to_string(E));
  const int64_t lq = q_in.numel() / E, lk = k_in.numel() / E;

  // Projections; each of q/k/v is addressed as (pointer, row stride).
  Tensor qk, kv, qt, kt, vt;
  const float *q, *k, *v;
  int64_t q_row = E, k_row = E, v_row = E;
  if (same_tensor(q_in, k_in)) {
    qk = project(q_in, in_weight, in_bias, 0, 2 * E, n_threads);
    q = qk.f32();
    k = qk.f32() + E;
    q_row = k_row = 2 * E;
    vt = project(v_in, in_weight, in_bias, 2 * E, 3 * E, n_threads);
    v = vt.f32();
  } else if (same_tensor(k_in, v_in)) {
    qt = project(q_in, in_weight, in_bias, 0, E, n_threads);
    q = qt.f32();
    kv = project(k_in, in_weight, in_bias, E, 3 * E, n_threads);
    k = kv.f32();
    v = kv.f32() + E;
    k_row = v_row = 2 * E;
  } else {
    qt = project(q_in, in_weight, in_bias, 0, E, n_threads);
    kt = project(k_in, in_weight, in_bias, E, 2 * E, n_threads);
    vt = project(v_in, in_weight, in_bias, 2 * E, 3 * E, n_threads);
    q = qt.f32();
    k = kt.f32();
    v = vt.f32();
  }

  Tensor o = Tensor::empty({lq, E});
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
  a.key_pad = key_pad;
  // Rows without bias, then rows with bias.
  const int64_t split = bias.data ? std::min(bias.first_row, lq) : lq;
  if (split > 0) {
    a.q = q;
    a.out = o.f32();
    a.lq = split;
    ops::attention(a, n_threads);
  }
  if (split < lq) {
    a.q = q + split * q_row;
    a.out = o.f32() + split * E;
    a.lq = lq - split;
    a.bias = bias.data;
    a.bias_head = bias.head_stride;
    ops::attention(a, n_threads);
  }
  return linear(out_proj, o, n_threads);
}

Tensor add(const Tensor& a, const Tensor& b, int n_threads) {
  Tensor y = Tensor::empty(a.shape());
  ops::add(a, b, y, n_threads);
  return y;
}

void add_inplace(Tensor& a, const Tensor& b, int n_threads) { ops::add(a, b, a, n_threads); }

Tensor nchw_to_tokens(const Tensor& x) {
  Shape s = x.shape();
  while (s.size() > 3 && s.front() == 1) s.erase(s.begin());
  if (s.size() != 3) throw Error("nchw_to_tokens: expected [1,C,H,W] or [C,H,W], got " + shape_str(x.shape()));
  const int64_t c = s[0], hw = s[1] * s[2];
  Tensor t = Tensor::empty({hw, c});
  const float* src = x.f32();
  float* dst = t.f32();
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < hw; ++i) dst[i * c + ch] = src[ch * hw + i];
  return t;
}

Tensor tokens_to_nchw(const Tensor& t, int64_t h, int64_t w) {
  const int64_t hw = h * w;
  if (t.numel() % hw != 0) throw Error("tokens_to_nchw: " + shape_str(t.shape()) + " is not H*W tokens");
  const int64_t c = t.numel() / hw;
  Tensor x = Tensor::empty({c, h, w});
  const float* src = t.f32();
  float* dst = x.f32();
  for (int64_t i = 0; i < hw; ++i)
    for (int64_t ch = 0; ch < c; ++ch) dst[ch * hw + i] = src[i * c + ch];
  return x;
}

}  // namespace sam3::det
