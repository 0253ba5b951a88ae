// sam3.cpp — the fusion encoder: image tokens attend to themselves (with the sine position encoding on Q and K) and to
// the prompt (text + geometry tokens, key-padding masked). Pre-norm layers, no final norm; the prompt is not updated.
// ref: sam3/model/encoder.py (TransformerEncoderFusion, TransformerEncoderLayer.forward_pre)
#pragma once
#include <cstdint>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "model/config.h"
#include "model/encoder_layer.h"
#include "nn/params.h"

namespace sam3 {

// The prompt every per-prompt module consumes: tokens [P, d] (fixture prompt.tokens is (P,1,d), same memory) and a
// key-padding mask, 1 = padding (prompt.mask, U8 (1,P)). Views; the caller owns the storage.
struct PromptView {
  Tensor tokens;  // [P, d] or [P, 1, d], F32
  Tensor mask;    // [P] or [1, P], U8/Bool, nonzero = pad
  int64_t length() const { return mask.numel(); }
  const uint8_t* mask_data() const { return mask.data<uint8_t>(); }
};
// Checks shapes/dtypes of a PromptView against d_model; throws sam3::Error naming `who`.
void check_prompt(const PromptView& p, int64_t d_model, const char* who);

struct FusionEncoderOutput {
  Tensor memory;  // [HW, d] image tokens (token y*W + x); fixture enc.memory (HW,1,d)
  Tensor pos;     // [HW, d] position encoding in token layout (the decoder adds it to its image keys)
};

class FusionEncoder {
 public:
  // `p` is the scope of `transformer.encoder.` (layers.{i}.*).
  FusionEncoder(const Config& cfg, const nn::ParamScope& p);

  // feat, pos: the used neck level and its sine encoding, [1, d, H, W] or [d, H, W] (neck.fpn2 / neck.pos2).
  // Dumps enc.layer{i} (1,HW,d) and enc.memory (HW,1,d).
  // `prefix`, when given, is image_prefix(feat, pos) computed earlier: forward() then starts from it (the same
  // numbers as without it, minus the work).
  FusionEncoderOutput forward(const Tensor& feat, const Tensor& pos, const PromptView& prompt, const RunContext& ctx,
                              const Tensor* prefix = nullptr) const;

  // The part of forward() that no prompt reaches: the image tokens after layer 0's self-attention (the prompt
  // enters at layer 0's cross-attention). [HW, d], owned (not arena memory). About 12% of a prompt's encoder work
  // at full size (30 of 256 GFLOP), shared by every prompt on an image through ImagePromptCache.
  Tensor image_prefix(const Tensor& feat, const Tensor& pos, const RunContext& ctx) const;

 private:
  int64_t d_ = 0;
  std::vector<TransformerEncoderLayer> layers_;
};

}  // namespace sam3
