// sam3.cpp — segmentation head (see segmentation_head.h).
// ref: sam3/model/maskformer_segmentation.py (UniversalSegmentationHead.forward, SegmentationHead._embed_pixels,
//      PixelDecoder.forward, MaskPredictor.forward)
#include "model/segmentation_head.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "core/ops.h"
#include "nn/tokens.h"

namespace sam3 {

SegmentationHead::SegmentationHead(const Config& cfg, const nn::ParamScope& p) {
  const SegConfig& s = cfg.seg;
  d_ = cfg.d_model;
  groups_ = s.groupnorm_groups;
  if (s.interpolation_mode != "nearest")
    throw Error("segmentation head: seg.interpolation_mode '" + s.interpolation_mode + "' is not implemented");
  const int stages = cfg.fpn_levels_used() - 1;  // one per finer level; conv_layers beyond that are never used
  if (stages < 0 || stages > s.num_upsampling_stages)
    throw Error("segmentation head: " + std::to_string(cfg.fpn_levels_used()) + " neck levels need " +
                std::to_string(stages) + " up-sampling stages, seg.num_upsampling_stages is " +
                std::to_string(s.num_upsampling_stages));
  // In the checkpoint's order (UniversalSegmentationHead.__init__, PixelDecoder.__init__). Stages beyond `stages` are
  // stored but never run.
  const nn::ParamScope pd = p.sub("pixel_decoder");
  for (int i = 0; i < s.num_upsampling_stages; ++i) {
    const nn::ParamScope conv = pd.sub("conv_layers").sub(i);
    if (i < stages) {
      convs_.push_back(nn::Conv2d::load(conv, d_, d_, 3, 1, 1));
      // The polyphase weights of the per-prompt half (conv3x3_up2_accumulate); none in a schema-only build.
      conv_up2_.push_back(p.collecting() ? Tensor() : ops::conv3x3_up2_weights(convs_.back().weight));
    } else {
      conv.unused("weight", {d_, d_, 3, 3});
      conv.unused("bias", {d_});
    }
  }
  for (int i = 0; i < s.num_upsampling_stages; ++i) {  // GroupNorm weight (d), bias (d)
    const nn::ParamScope gn = pd.sub("norms").sub(i);
    if (i < stages) {
      gn_weight_.push_back(gn.get("weight", {d_}));
      gn_bias_.push_back(gn.get("bias", {d_}));
    } else {
      gn.unused("weight", {d_});
      gn.unused("bias", {d_});
    }
  }
  mask_embed_ = nn::Mlp::load(p.sub("mask_predictor").sub("mask_embed"), d_, d_, d_, 3);
  cross_attend_prompt_ = nn::MultiheadAttention::load(p.sub("cross_attend_prompt"), d_, s.cross_attend_prompt_heads);
  cross_attn_norm_ = nn::LayerNorm::load(p.sub("cross_attn_norm"), d_, nn::kLayerNormEps);
  semantic_seg_head_ = nn::Conv2d::load(p.sub("semantic_seg_head"), d_, 1, 1, 1, 0);
  instance_seg_head_ = nn::Conv2d::load(p.sub("instance_seg_head"), d_, d_, 1, 1, 0);
}

std::vector<Tensor> SegmentationHead::image_terms(const std::vector<Tensor>& fpn, const RunContext& ctx) const {
  if (static_cast<int>(fpn.size()) != num_stages())
    throw Error("segmentation head: expected " + std::to_string(num_stages()) + " finer neck levels, got " +
                std::to_string(fpn.size()));
  std::vector<Tensor> out;
  for (int s = 0; s < num_stages(); ++s) {
    const Tensor& feat = fpn[static_cast<size_t>(num_stages() - 1 - s)];
    if (feat.dim() < 3 || feat.size(-3) != d_)
      throw Error("segmentation head: neck level " + shape_str(feat.shape()) + " does not have " + std::to_string(d_) +
                  " channels");
    Tensor t = Tensor::empty({d_, feat.size(-2), feat.size(-1)});
    convs_[static_cast<size_t>(s)].forward(feat, t, ctx);  // conv3x3(feat) + bias
    out.push_back(std::move(t));
  }
  return out;
}

SegmentationOutput SegmentationHead::forward(const Tensor& memory, int64_t feat_h, int64_t feat_w,
                                             const std::vector<Tensor>& fpn, const Tensor& queries,
                                             const PromptView& prompt, const RunContext& ctx,
                                             const std::vector<Tensor>* image_terms_in) const {
  ArenaScope scope(ctx.arena);  // the intermediates; the outputs are owned
  check_prompt(prompt, d_, "segmentation head");
  const int64_t hw = feat_h * feat_w;
  if (memory.numel() != hw * d_)
    throw Error("segmentation head: memory " + shape_str(memory.shape()) + " is not [" + std::to_string(hw) + ", " +
                std::to_string(d_) + "]");
  if (static_cast<int>(fpn.size()) != num_stages())
    throw Error("segmentation head: expected " + std::to_string(num_stages()) + " finer neck levels, got " +
                std::to_string(fpn.size()));
  if (queries.size(-1) != d_) throw Error("segmentation head: queries " + shape_str(queries.shape()) + " are not [Q, d]");
  const bool dumping = ctx.dumping();
  const int64_t Q = queries.numel() / d_;

  // 1. e = memory + MHA(LN(memory), prompt, prompt, key_padding_mask)   (no positional encodings)
  const Tensor mem = memory.reshape({hw, d_});
  const Tensor ptok = prompt.tokens.reshape({prompt.length(), d_});
  Tensor xattn = cross_attend_prompt_.forward(cross_attn_norm_.forward(mem, ctx), ptok, ptok,
                                              nn::AttnMask::padding(prompt.mask_data()), ctx);
  ctx.dump("seg.prompt_xattn", xattn.reshape({hw, 1, d_}));
  ops::add(xattn, mem, xattn, ctx);

  // 2. pixel decoder, coarse to fine: p = ReLU(GN(conv3x3(feat + nearest(p)))), the conv being linear, as
  //    conv3x3(feat) + bias (image_terms: per image, shareable by every prompt on it) + conv3x3(nearest(p)) (per
  //    prompt, on p before the exact 2× up-sampling: 4 taps per output instead of 9).
  std::vector<Tensor> own_terms;
  if (!image_terms_in) own_terms = image_terms(fpn, ctx);
  const std::vector<Tensor>& terms = image_terms_in ? *image_terms_in : own_terms;
  if (static_cast<int>(terms.size()) != num_stages())
    throw Error("segmentation head: " + std::to_string(terms.size()) + " image terms for " +
                std::to_string(num_stages()) + " stages");
  Tensor p = nn::tokens_to_nchw(xattn, feat_h, feat_w);  // [d, feat_h, feat_w]
  for (int s = 0; s < num_stages(); ++s) {
    const Tensor& term = terms[static_cast<size_t>(s)];
    const int64_t h = term.size(-2), w = term.size(-1);
    if (term.dim() != 3 || term.size(0) != d_ || h != 2 * p.size(-2) || w != 2 * p.size(-1))
      throw Error("segmentation head: stage " + std::to_string(s) + " maps " + shape_str(p.shape()) + " onto " +
                  shape_str(term.shape()) + ", not [" + std::to_string(d_) + ", 2h, 2w]");
    Tensor y = ctx.scratch({d_, h, w});
    std::copy_n(term.f32(), term.numel(), y.f32());
    ops::conv3x3_up2_accumulate(p, conv_up2_[static_cast<size_t>(s)], y, ctx);
    ops::group_norm(y, groups_, gn_weight_[static_cast<size_t>(s)], gn_bias_[static_cast<size_t>(s)], 1e-5f,
                    /*relu=*/true, y, ctx);
    p = y;
  }
  const int64_t H = p.size(1), W = p.size(2);
  ctx.dump("seg.pixel_embed", p.reshape({1, d_, H, W}));

  // 3. heads: instance embedding (1×1), semantic logits (1×1), masks = mask_embed(queries) · instance embedding.
  SegmentationOutput out;
  Tensor inst = ctx.scratch({d_, H, W});
  instance_seg_head_.forward(p, inst, ctx);
  out.semantic_seg = Tensor::empty({1, H, W});
  semantic_seg_head_.forward(p, out.semantic_seg, ctx);
  const Tensor me = mask_embed_.forward(queries.reshape({Q, d_}), ctx);  // [Q, d]
  out.pred_masks = ctx.output({Q, H, W});  // 66 MB at full size: recycled across prompts
  Tensor masks2d = out.pred_masks.reshape({Q, H * W});
  ops::matmul(me, inst.reshape({d_, H * W}), masks2d, ctx);
  if (dumping) {
    ctx.dump("seg.mask_embed", me.reshape({1, Q, d_}));
    ctx.dump("out.pred_masks", out.pred_masks.reshape({1, Q, H, W}));
    ctx.dump("out.semantic_seg", out.semantic_seg.reshape({1, 1, H, W}));
  }
  return out;
}

}  // namespace sam3
