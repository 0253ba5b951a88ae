// sam3.cpp — text encoder (see text_encoder.h). ref: sam3/model/text_encoder_ve.py
#include "model/text_encoder.h"

#include <cstdio>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/ops.h"

namespace sam3 {

TextEncoder::TextEncoder(const nn::ParamScope& p, const Config& cfg)
    : context_(cfg.text.context_length),
      width_(cfg.text.width),
      vocab_(cfg.text.vocab_size),
      d_model_(cfg.d_model) {
  const int64_t hidden = static_cast<int64_t>(cfg.text.width * cfg.text.mlp_ratio);  // int() as upstream
  // In the checkpoint's order (TextTransformer.__init__); text_projection (width, text_projection_dim) is unused.
  const nn::ParamScope enc = p.sub("encoder");
  positional_embedding_ = enc.get("positional_embedding", {context_, width_});
  enc.unused("text_projection", {width_, cfg.text.text_projection_dim});
  token_embedding_ = enc.sub("token_embedding").get("weight", {vocab_, width_});
  const nn::ParamScope blocks = enc.sub("transformer").sub("resblocks");
  for (int i = 0; i < cfg.text.layers; ++i) {
    const nn::ParamScope b = blocks.sub(i);
    Block blk;
    blk.attn = nn::MultiheadAttention::load(b.sub("attn"), width_, cfg.text.heads);
    blk.ln_1 = nn::LayerNorm::load(b.sub("ln_1"), width_, nn::kLayerNormEps);
    blk.ln_2 = nn::LayerNorm::load(b.sub("ln_2"), width_, nn::kLayerNormEps);
    blk.c_fc = nn::Linear::load(b.sub("mlp").sub("c_fc"), width_, hidden);
    blk.c_proj = nn::Linear::load(b.sub("mlp").sub("c_proj"), hidden, width_);
    blocks_.push_back(std::move(blk));
  }
  ln_final_ = nn::LayerNorm::load(enc.sub("ln_final"), width_, nn::kLayerNormEps);
  resizer_ = nn::Linear::load(p.sub("resizer"), width_, d_model_);
}

// ref: text_encoder_ve.py (VETextEncoder.forward -> TextTransformer.forward -> Transformer -> ResidualAttentionBlock)
TextFeatures TextEncoder::encode(const std::vector<int64_t>& ids, const RunContext& ctx) const {
  ArenaScope scope(ctx.arena);  // the intermediates; the result is owned
  if (static_cast<int64_t>(ids.size()) != context_)
    throw Error("TextEncoder: expected " + std::to_string(context_) + " token ids (context_length), got " +
                std::to_string(ids.size()));
  const int64_t L = context_, W = width_;
  const bool dumping = ctx.dumping();

  // Token embedding gather, then + positional embedding.
  Tensor x = ctx.scratch({L, W});
  for (int64_t i = 0; i < L; ++i) {
    const int64_t id = ids[static_cast<size_t>(i)];
    if (id < 0 || id >= vocab_)
      throw Error("TextEncoder: token id " + std::to_string(id) + " at position " + std::to_string(i) +
                  " is outside the vocabulary [0, " + std::to_string(vocab_) + ")");
    std::memcpy(x.f32() + i * W, token_embedding_.f32() + id * W, static_cast<size_t>(W) * sizeof(float));
  }
  ctx.dump("text.token_embed", x.reshape({1, L, W}));
  ops::add(x, positional_embedding_, x, ctx);

  Tensor t = ctx.scratch({L, W}), y = ctx.scratch({L, W});
  Tensor h = blocks_.empty() ? Tensor() : ctx.scratch({L, blocks_[0].c_fc.out_features});
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const Block& b = blocks_[i];
    b.ln_1.forward(x, t, ctx);
    ops::add(x, b.attn.forward(t, t, t, nn::AttnMask::causal_mask(), ctx), x, ctx);
    b.ln_2.forward(x, t, ctx);
    b.c_fc.forward(t, h, ctx);
    ops::gelu_inplace(h, ctx);
    b.c_proj.forward(h, y, ctx);
    ops::add(x, y, x, ctx);
    if (dumping) {
      char name[32];
      std::snprintf(name, sizeof(name), "text.block%02zu", i);
      ctx.dump(name, x.reshape({1, L, W}));
    }
  }
  ln_final_.forward(x, t, ctx);
  ctx.dump("text.ln_final", t.reshape({1, L, W}));

  TextFeatures out;
  out.token_ids = ids;
  out.features = Tensor::empty({L, 1, d_model_});
  resizer_.forward(t, out.features, ctx);
  out.mask = Tensor::empty({1, L}, DType::U8);
  for (int64_t i = 0; i < L; ++i) out.mask.data<uint8_t>()[i] = ids[static_cast<size_t>(i)] == 0 ? 1 : 0;
  if (dumping) {
    ctx.dump("text.language_features", out.features);
    ctx.dump("text.language_mask", out.mask);
  }
  return out;
}

}  // namespace sam3
