// sam3.cpp — the segmentation head: the encoder memory cross-attends to the prompt (residual on the un-normalised
// memory), becomes the coarsest level of a pixel decoder over the finer neck levels (nearest 2× up-sampling + add,
// 3×3 conv, GroupNorm, ReLU per stage), then a 1×1 instance projection dotted with mask_embed(queries) gives one
// mask-logit map per query, and a 1×1 semantic head gives one semantic logit map.
// ref: sam3/model/maskformer_segmentation.py (UniversalSegmentationHead, PixelDecoder, MaskPredictor)
#pragma once
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "model/config.h"
#include "model/fusion_encoder.h"
#include "nn/conv2d.h"
#include "nn/layer_norm.h"
#include "nn/mlp.h"
#include "nn/multihead_attention.h"
#include "nn/params.h"

namespace sam3 {

struct SegmentationOutput {
  Tensor pred_masks;    // [Q, H, W] mask logits at the finest level (out.pred_masks (1,Q,H,W))
  Tensor semantic_seg;  // [1, H, W] semantic logits (out.semantic_seg (1,1,H,W))
};

class SegmentationHead {
 public:
  // `p` is the scope of `segmentation_head.`. Loads the pixel-decoder stages that run (fpn_levels_used - 1).
  SegmentationHead(const Config& cfg, const nn::ParamScope& p);

  // memory: [HW, d] fusion-encoder output on the feat_h × feat_w grid (token y*feat_w + x).
  // fpn: the finer neck levels, finest first (neck.fpn0, neck.fpn1, ...: [1, d, h_i, w_i]), one per stage.
  // queries: [Q, d], the last decoder layer's LN'd output (hs[L-1]).
  // Dumps seg.prompt_xattn (HW,1,d), seg.pixel_embed (1,d,H,W), seg.mask_embed (1,Q,d), out.pred_masks,
  // out.semantic_seg.
  // `image_terms`: image_terms(fpn) computed earlier for these levels (then forward() does not recompute them; the
  // same numbers either way).
  SegmentationOutput forward(const Tensor& memory, int64_t feat_h, int64_t feat_w, const std::vector<Tensor>& fpn,
                             const Tensor& queries, const PromptView& prompt, const RunContext& ctx,
                             const std::vector<Tensor>* image_terms = nullptr) const;

  // The pixel decoder's prompt-independent half: conv3x3(fpn level) + bias for each stage, coarse stage first
  // ([d, h_s, w_s], owned). Each stage's conv is split by linearity, conv(feat + up(p)) = (conv(feat) + bias) +
  // conv(up(p)); only the second half depends on the prompt, and it runs on p before the 2× up-sampling
  // (ops::conv3x3_up2_accumulate). At full size 122 GFLOP once per image (the 144² and 288² stages, 21 + 85 MB),
  // and 54 instead of 122 GFLOP per prompt. Shared by the prompts on an image through ImagePromptCache.
  std::vector<Tensor> image_terms(const std::vector<Tensor>& fpn, const RunContext& ctx) const;

  int num_stages() const { return static_cast<int>(convs_.size()); }

 private:
  int64_t d_ = 0;
  int groups_ = 8;
  nn::MultiheadAttention cross_attend_prompt_;
  nn::LayerNorm cross_attn_norm_;
  std::vector<nn::Conv2d> convs_;  // pixel_decoder.conv_layers.{s}: 3×3, pad 1
  std::vector<Tensor> conv_up2_;   // the same in polyphase form (ops::conv3x3_up2_weights), for the per-prompt half
  std::vector<Tensor> gn_weight_, gn_bias_;  // pixel_decoder.norms.{s}
  nn::Conv2d instance_seg_head_, semantic_seg_head_;  // 1×1
  nn::Mlp mask_embed_;                               // mask_predictor.mask_embed: MLP(d, d, d, 3)
};

}  // namespace sam3
