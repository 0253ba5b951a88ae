// sam3.cpp — MultiheadAttention and the pre-norm encoder layer used by the prompt encoders.
// ref: torch.nn.MultiheadAttention, sam3/model/encoder.py (TransformerEncoderLayer.forward_pre)
#include "model/prompt_blocks.h"

#include <cmath>

#include "core/error.h"
#include "core/ops.h"

namespace sam3::prompt {

MultiheadAttention MultiheadAttention::load(const nn::ParamScope& p, int64_t dim, int64_t heads) {
  if (heads <= 0 || dim % heads != 0)
    throw Error("MultiheadAttention '" + p.prefix() + "': dim " + std::to_string(dim) + " is not divisible by " +
                std::to_string(heads) + " heads");
  MultiheadAttention m;
  m.dim = dim;
  m.heads = heads;
  m.in_weight = p.get("in_proj_weight", {3 * dim, dim});
  m.in_bias = p.get("in_proj_bias", {3 * dim});
  m.out_proj = nn::Linear::load(p.sub("out_proj"), dim, dim);
  return m;
}

void MultiheadAttention::attend(const float* q, int64_t q_row, const float* k, int64_t k_row, const float* v,
                                int64_t v_row, int64_t lq, int64_t lk, const uint8_t* key_pad, bool causal, Tensor& y,
                                int n_threads) const {
  const int64_t hd = dim / heads;
  Tensor o = Tensor::empty({lq, dim});  // heads concatenated
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
  a.o_row = dim;
  a.o_head = hd;
  a.n_heads = heads;
  a.lq = lq;
  a.lk = lk;
  a.head_dim = hd;
  a.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  a.key_pad = key_pad;
  if (!causal) {
    ops::attention(a, n_threads);
  } else {
    // Causal: query i sees keys 0..i, i.e. attention of one row over a prefix of the keys.
    if (lq != lk) throw Error("MultiheadAttention: causal attention needs as many queries as keys");
    for (int64_t i = 0; i < lq; ++i) {
      ops::AttentionArgs r = a;
      r.q = q + i * q_row;
      r.out = o.f32() + i * dim;
      r.lq = 1;
      r.lk = i + 1;
      ops::attention(r, n_threads);
    }
  }
  out_proj.forward(o, y, n_threads);
}

// ref: F.multi_head_attention_forward (_in_projection_packed with query is key is value: one packed projection).
void MultiheadAttention::self_attention(const Tensor& x, const uint8_t* key_pad, bool causal, Tensor& y,
                                        int n_threads) const {
  check_tensor(x, {x.size(0), dim}, DType::F32, "MultiheadAttention self-attention input");
  const int64_t L = x.size(0);
  Tensor qkv = Tensor::empty({L, 3 * dim});
  ops::linear(x, in_weight, &in_bias, qkv, n_threads);
  const float* p = qkv.f32();
  attend(p, 3 * dim, p + dim, 3 * dim, p + 2 * dim, 3 * dim, L, L, key_pad, causal, y, n_threads);
}

void MultiheadAttention::cross_attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in,
                                         const uint8_t* key_pad, Tensor& y, int n_threads) const {
  check_tensor(q_in, {q_in.size(0), dim}, DType::F32, "MultiheadAttention query");
  check_tensor(k_in, {k_in.size(0), dim}, DType::F32, "MultiheadAttention key");
  check_tensor(v_in, {k_in.size(0), dim}, DType::F32, "MultiheadAttention value");
  const int64_t lq = q_in.size(0), lk = k_in.size(0);
  // Row blocks of the packed projection: [Wq; Wk; Wv].
  const Tensor wq = in_weight.slice0(0, dim), wk = in_weight.slice0(dim, 2 * dim), wv = in_weight.slice0(2 * dim, 3 * dim);
  const Tensor bq = in_bias.slice0(0, dim), bk = in_bias.slice0(dim, 2 * dim), bv = in_bias.slice0(2 * dim, 3 * dim);
  Tensor q = Tensor::empty({lq, dim}), k = Tensor::empty({lk, dim}), v = Tensor::empty({lk, dim});
  ops::linear(q_in, wq, &bq, q, n_threads);
  ops::linear(k_in, wk, &bk, k, n_threads);
  ops::linear(v_in, wv, &bv, v, n_threads);
  attend(q.f32(), dim, k.f32(), dim, v.f32(), dim, lq, lk, key_pad, false, y, n_threads);
}

PreNormEncoderLayer PreNormEncoderLayer::load(const nn::ParamScope& p, int64_t dim, int64_t heads, int64_t ffn,
                                              const std::string& activation, bool pos_at_cross_keys) {
  PreNormEncoderLayer l;
  l.self_attn = MultiheadAttention::load(p.sub("self_attn"), dim, heads);
  l.cross_attn = MultiheadAttention::load(p.sub("cross_attn_image"), dim, heads);
  l.linear1 = nn::Linear::load(p.sub("linear1"), dim, ffn);
  l.linear2 = nn::Linear::load(p.sub("linear2"), ffn, dim);
  l.norm1 = nn::LayerNorm::load(p.sub("norm1"), dim, kLayerNormEps);
  l.norm2 = nn::LayerNorm::load(p.sub("norm2"), dim, kLayerNormEps);
  l.norm3 = nn::LayerNorm::load(p.sub("norm3"), dim, kLayerNormEps);
  l.pos_at_cross_keys = pos_at_cross_keys;
  if (activation == "relu") {
    l.relu = true;
  } else if (activation == "gelu") {
    l.relu = false;
  } else {
    throw Error("encoder layer '" + p.prefix() + "': unsupported activation '" + activation + "'");
  }
  return l;
}

// ref: sam3/model/encoder.py (TransformerEncoderLayer.forward_pre, dac = False, no query_pos)
void PreNormEncoderLayer::forward(Tensor& x, const Tensor& memory, const Tensor& memory_pos, const uint8_t* key_pad,
                                  int n_threads) const {
  const int64_t L = x.size(0), E = x.size(1);
  Tensor t = Tensor::empty({L, E}), attn = Tensor::empty({L, E});
  // Self-attention (no positional encoding).
  norm1.forward(x, t, n_threads);
  self_attn.self_attention(t, key_pad, false, attn, n_threads);
  ops::add(x, attn, x, n_threads);
  // Cross-attention to the image: keys = memory + pos, values = memory.
  norm2.forward(x, t, n_threads);
  if (pos_at_cross_keys) {
    Tensor keys = Tensor::empty(memory.shape());
    ops::add(memory, memory_pos, keys, n_threads);
    cross_attn.cross_attention(t, keys, memory, nullptr, attn, n_threads);
  } else {
    cross_attn.cross_attention(t, memory, memory, nullptr, attn, n_threads);
  }
  ops::add(x, attn, x, n_threads);
  // FFN.
  norm3.forward(x, t, n_threads);
  Tensor h = Tensor::empty({L, linear1.out_features});
  linear1.forward(t, h, n_threads);
  if (relu) {
    ops::relu_inplace(h, n_threads);
  } else {
    ops::gelu_inplace(h, n_threads);
  }
  linear2.forward(h, attn, n_threads);
  ops::add(x, attn, x, n_threads);
}

}  // namespace sam3::prompt
