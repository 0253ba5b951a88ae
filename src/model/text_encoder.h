// sam3.cpp — the text encoder: token ids -> per-token language features for the detector.
//
//   x = token_embedding[ids] + positional_embedding            [L, W]   (L = context_length = 32)
//   layers× (pre-norm, causal):  x += MHA(LN1(x));  x += c_proj(GELU(c_fc(LN2(x))))
//   x = ln_final(x);  features = resizer(x)                    [L, d]   (all L tokens, padding included)
//   mask = (ids == 0)                                           [L]      (1 = padding; '!' is id 0 too)
// No padding mask inside the transformer (only the causal one); no pooling; text_projection is not used.
// ref: sam3/model/text_encoder_ve.py (VETextEncoder.forward, TextTransformer, ResidualAttentionBlock)
#pragma once
#include <cstdint>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "model/config.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/multihead_attention.h"
#include "nn/params.h"

namespace sam3 {

// What one text contributes to a prompt (backbone_out["language_features" / "language_mask"]).
struct TextFeatures {
  std::vector<int64_t> token_ids;  // [L]
  Tensor features;                 // [L, 1, d] F32, sequence-first
  Tensor mask;                     // [1, L] U8, 1 = padding (token id 0)
};

class TextEncoder {
 public:
  // p = the scope of "backbone.language_backbone." (keys encoder.*, resizer.*). Checks every shape against cfg.
  TextEncoder(const nn::ParamScope& p, const Config& cfg);

  // ids: exactly cfg.text.context_length token ids (framed and padded by the tokenizer), each < vocab_size.
  // Thread-safe (const, no shared scratch). With a dumper, records text.token_embed, text.blockNN, text.ln_final,
  // text.language_features and text.language_mask in the fixture layouts.
  TextFeatures encode(const std::vector<int64_t>& ids, const RunContext& ctx) const;

  int64_t context_length() const { return context_; }

 private:
  struct Block {
    nn::LayerNorm ln_1, ln_2;
    nn::MultiheadAttention attn;
    nn::Linear c_fc, c_proj;
  };
  int64_t context_ = 0, width_ = 0, vocab_ = 0, d_model_ = 0;
  Tensor token_embedding_;       // [vocab, W]
  Tensor positional_embedding_;  // [L, W]
  std::vector<Block> blocks_;
  nn::LayerNorm ln_final_;
  nn::Linear resizer_;  // W -> d
};

}  // namespace sam3
