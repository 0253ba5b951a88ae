// sam3.cpp — SAM's mask decoder for the interactive head: output tokens (object score, IoU, 1 + 3 mask tokens) +
// prompt tokens through the two-way transformer with the image embedding (+ dense prompt), then the upscaling path
// with the high-resolution features, hypernetwork MLPs -> masks, the IoU head, the object-score head, and the
// selection (multimask: masks 1..3; single: mask 0 unless unstable, then the best of 1..3).
// ref: sam3/sam/mask_decoder.py (MaskDecoder, MLP)
#pragma once
#include <cstdint>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "model/config.h"
#include "model/sam_two_way_transformer.h"
#include "nn/conv2d.h"
#include "nn/linear.h"
#include "nn/mlp.h"
#include "nn/params.h"

namespace sam3 {

struct SamDecoderOutput {
  Tensor masks;            // [k, L, L] low-res logits after the selection (k = 3 multimask, else 1)
  std::vector<float> iou;  // [k] predicted IoU
  float object_score_logit = 0;
};

class SamMaskDecoder {
 public:
  // `p` is the scope "tracker.sam_mask_decoder."; conv_s0 / conv_s1 are loaded here too (they sit in the checkpoint
  // between output_upscaling and the hypernetworks) but applied per image by high_res_features(). image_pe_tokens
  // [E·E, C]: the prompt encoder's dense positional encoding as tokens (undefined while collecting weights).
  SamMaskDecoder(const PvsConfig& cfg, const nn::ParamScope& p, const Tensor& image_pe_tokens);

  // conv_s0 on level 0 [1, C, 4E, 4E] -> [C/8, 4E, 4E]; conv_s1 on level 1 [1, C, 2E, 2E] -> [C/4, 2E, 2E].
  Tensor conv_s0(const Tensor& level0, const RunContext& ctx) const;
  Tensor conv_s1(const Tensor& level1, const RunContext& ctx) const;

  // The image side: image_embed [1, C, E, E] (no_mem_embed included) + dense [1, C, E, E] as tokens. for_cache:
  // on the heap, with the first transformer block's projections (what a cache keeps for the picks without a mask
  // input); otherwise from ctx's scratch, projections left to forward().
  SamImageTokens image_tokens(const Tensor& image_embed, const Tensor& dense, bool for_cache,
                              const RunContext& ctx) const;

  // image from image_tokens(), sparse [T, C], feat_s0 [C/8, 4E, 4E], feat_s1 [C/4, 2E, 2E].
  SamDecoderOutput forward(const SamImageTokens& image, const Tensor& sparse, const Tensor& feat_s0,
                           const Tensor& feat_s1, bool multimask, const RunContext& ctx) const;

 private:
  PvsConfig cfg_;
  int64_t dim_ = 0, num_mask_tokens_ = 0;
  SamTwoWayTransformer transformer_;
  Tensor iou_token_, mask_tokens_, obj_score_token_;
  nn::ConvTranspose2dK2S2 up0_, up1_;  // output_upscaling.0 / .3
  Tensor up_ln_w_, up_ln_b_;           // output_upscaling.1 (LayerNorm2d)
  nn::Conv2d conv_s0_, conv_s1_;
  std::vector<nn::Mlp> hyper_;  // output_hypernetworks_mlps.{i}
  nn::Mlp iou_head_, obj_head_;
};

}  // namespace sam3
