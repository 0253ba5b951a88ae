// sam3.cpp — pre-norm transformer encoder layer (see encoder_layer.h).
// ref: sam3/model/encoder.py (TransformerEncoderLayer.forward_pre)
#include "model/encoder_layer.h"

#include "core/error.h"
#include "core/ops.h"

namespace sam3 {

TransformerEncoderLayer TransformerEncoderLayer::load(const nn::ParamScope& p, const Options& opt) {
  if (opt.activation != "relu" && opt.activation != "gelu")
    throw Error("encoder layer '" + p.prefix() + "': unsupported activation '" + opt.activation + "' (relu/gelu)");
  const int64_t d = opt.d_model;
  TransformerEncoderLayer l;
  l.opt = opt;
  l.self_attn = nn::MultiheadAttention::load(p.sub("self_attn"), d, opt.num_heads);
  l.cross_attn_image = nn::MultiheadAttention::load(p.sub("cross_attn_image"), d, opt.num_heads);
  l.linear1 = nn::Linear::load(p.sub("linear1"), d, opt.dim_feedforward);
  l.linear2 = nn::Linear::load(p.sub("linear2"), opt.dim_feedforward, d);
  l.norm1 = nn::LayerNorm::load(p.sub("norm1"), d, nn::kLayerNormEps);
  l.norm2 = nn::LayerNorm::load(p.sub("norm2"), d, nn::kLayerNormEps);
  l.norm3 = nn::LayerNorm::load(p.sub("norm3"), d, nn::kLayerNormEps);
  return l;
}

namespace {

// x + pos when `use` and pos is given, else x itself (the same tensor, so projections can be shared).
Tensor with_pos(const Tensor& x, const Tensor& pos, bool use, const RunContext& ctx) {
  if (!use || !pos.defined()) return x;
  Tensor y = ctx.scratch(x.shape());
  ops::add(x, pos, y, ctx);
  return y;
}

}  // namespace

void TransformerEncoderLayer::forward(Tensor& tgt, const Tensor& memory, const Tensor& query_pos,
                                      const Tensor& memory_pos, const uint8_t* tgt_key_pad,
                                      const uint8_t* memory_key_pad, const RunContext& ctx) const {
  forward_self(tgt, query_pos, tgt_key_pad, ctx);
  forward_cross_ffn(tgt, memory, query_pos, memory_pos, memory_key_pad, ctx);
}

void TransformerEncoderLayer::forward_self(Tensor& tgt, const Tensor& query_pos, const uint8_t* tgt_key_pad,
                                           const RunContext& ctx) const {
  ArenaScope scope(ctx.arena);  // every intermediate; the result is added into tgt
  // self-attention: q = k = LN1(x) (+ query_pos), v = LN1(x)
  const Tensor t = norm1.forward(tgt, ctx);
  const Tensor qk = with_pos(t, query_pos, opt.pos_enc_at_attn, ctx);
  ops::add(tgt, self_attn.forward(qk, qk, t, nn::AttnMask::padding(tgt_key_pad), ctx), tgt, ctx);
}

void TransformerEncoderLayer::forward_cross_ffn(Tensor& tgt, const Tensor& memory, const Tensor& query_pos,
                                                const Tensor& memory_pos, const uint8_t* memory_key_pad,
                                                const RunContext& ctx) const {
  ArenaScope scope(ctx.arena);  // every intermediate; the result is added into tgt
  {  // cross-attention: q = LN2(x) (+ query_pos), k = memory (+ memory_pos), v = memory
    const Tensor t = norm2.forward(tgt, ctx);
    const Tensor q = with_pos(t, query_pos, opt.pos_enc_at_cross_attn_queries, ctx);
    const Tensor k = with_pos(memory, memory_pos, opt.pos_enc_at_cross_attn_keys, ctx);
    ops::add(tgt, cross_attn_image.forward(q, k, memory, nn::AttnMask::padding(memory_key_pad), ctx), tgt,
             ctx);
  }
  {  // FFN
    const Tensor t = norm3.forward(tgt, ctx);
    Tensor h = linear1.forward(t, ctx);
    if (opt.activation == "relu")
      ops::relu_inplace(h, ctx);
    else
      ops::gelu_inplace(h, ctx);
    ops::add(tgt, linear2.forward(h, ctx), tgt, ctx);
  }
}

}  // namespace sam3
