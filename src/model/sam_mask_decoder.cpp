// ref: sam3/sam/mask_decoder.py (MaskDecoder.forward, predict_masks, _get_stability_scores,
//      _dynamic_multimask_via_stability)
#include "model/sam_mask_decoder.h"

#include <cmath>
#include <cstring>

#include "core/arena.h"
#include "core/ops.h"
#include "model/sam_prompt_encoder.h"
#include "nn/tokens.h"

namespace sam3 {

SamMaskDecoder::SamMaskDecoder(const PvsConfig& cfg, const nn::ParamScope& p, const Tensor& image_pe_tokens)
    : cfg_(cfg),
      dim_(cfg.prompt_embed_dim),
      num_mask_tokens_(cfg.num_multimask_outputs + 1),
      transformer_(cfg.two_way_transformer, cfg.prompt_embed_dim, p.sub("transformer"), image_pe_tokens) {
  const int64_t C = dim_;
  iou_token_ = p.sub("iou_token").get("weight", {1, C});
  mask_tokens_ = p.sub("mask_tokens").get("weight", {num_mask_tokens_, C});
  obj_score_token_ = p.sub("obj_score_token").get("weight", {1, C});
  const nn::ParamScope up = p.sub("output_upscaling");
  up0_ = nn::ConvTranspose2dK2S2::load(up.sub(0), C, C / 4);
  up_ln_w_ = up.sub(1).get("weight", {C / 4});
  up_ln_b_ = up.sub(1).get("bias", {C / 4});
  up1_ = nn::ConvTranspose2dK2S2::load(up.sub(3), C / 4, C / 8);
  conv_s0_ = nn::Conv2d::load(p.sub("conv_s0"), C, C / 8, 1, 1, 0);
  conv_s1_ = nn::Conv2d::load(p.sub("conv_s1"), C, C / 4, 1, 1, 0);
  for (int64_t i = 0; i < num_mask_tokens_; ++i)
    hyper_.push_back(nn::Mlp::load(p.sub("output_hypernetworks_mlps").sub(static_cast<int>(i)), C, C, C / 8, 3));
  iou_head_ =
      nn::Mlp::load(p.sub("iou_prediction_head"), C, cfg.iou_head_hidden_dim, num_mask_tokens_, cfg.iou_head_depth);
  obj_head_ = nn::Mlp::load(p.sub("pred_obj_score_head"), C, C, 1, 3);
}

Tensor SamMaskDecoder::conv_s0(const Tensor& level0, const RunContext& ctx) const {
  Tensor y = Tensor::empty({dim_ / 8, level0.size(-2), level0.size(-1)});
  conv_s0_.forward(level0, y, ctx);
  return y;
}

Tensor SamMaskDecoder::conv_s1(const Tensor& level1, const RunContext& ctx) const {
  Tensor y = Tensor::empty({dim_ / 4, level1.size(-2), level1.size(-1)});
  conv_s1_.forward(level1, y, ctx);
  return y;
}

SamImageTokens SamMaskDecoder::image_tokens(const Tensor& image_embed, const Tensor& dense, bool for_cache,
                                            const RunContext& ctx) const {
  const int64_t C = dim_, E = image_embed.size(-1);
  check_tensor(image_embed, {1, C, E, E}, DType::F32, "SamMaskDecoder image_embed");
  check_tensor(dense, {1, C, E, E}, DType::F32, "SamMaskDecoder dense");
  SamImageTokens t;
  t.src = for_cache ? Tensor::empty({E * E, C}) : ctx.scratch({E * E, C});
  nn::transpose_add(image_embed.f32(), dense.f32(), C, E * E, t.src.f32(), ctx.n_threads);
  if (for_cache) transformer_.first_block(t, ctx);
  return t;
}

SamDecoderOutput SamMaskDecoder::forward(const SamImageTokens& image, const Tensor& sparse, const Tensor& feat_s0,
                                         const Tensor& feat_s1, bool multimask, const RunContext& ctx) const {
  const int64_t C = dim_, nt = sparse.size(0);
  const int64_t E = cfg_.image_embedding_size;
  check_tensor(image.src, {E * E, C}, DType::F32, "SamMaskDecoder image tokens");
  check_tensor(feat_s0, {C / 8, 4 * E, 4 * E}, DType::F32, "SamMaskDecoder feat_s0");
  check_tensor(feat_s1, {C / 4, 2 * E, 2 * E}, DType::F32, "SamMaskDecoder feat_s1");

  ArenaScope scope(ctx.arena);  // every intermediate; the selected masks are copied out at the end
  // tokens = [obj_score_token; iou_token; mask_tokens; sparse]   [6 + T, C]
  const int64_t n_out = 2 + num_mask_tokens_;
  Tensor tokens = ctx.scratch({n_out + nt, C});
  float* t = tokens.f32();
  std::memcpy(t, obj_score_token_.f32(), static_cast<size_t>(C) * sizeof(float));
  std::memcpy(t + C, iou_token_.f32(), static_cast<size_t>(C) * sizeof(float));
  std::memcpy(t + 2 * C, mask_tokens_.f32(), static_cast<size_t>(num_mask_tokens_ * C) * sizeof(float));
  if (nt > 0) std::memcpy(t + n_out * C, sparse.f32(), static_cast<size_t>(nt * C) * sizeof(float));

  Tensor hs, keys;
  transformer_.forward(image, tokens, hs, keys, ctx);

  // Hypernetworks: one MLP per mask token -> hyper_in [M, C/8].
  const int64_t M = num_mask_tokens_, L = 4 * E;
  Tensor hyper_in = ctx.scratch({M, C / 8});
  for (int64_t i = 0; i < M; ++i) {
    const Tensor tok = hs.slice0(2 + i, 3 + i);
    const Tensor h = hyper_[static_cast<size_t>(i)].forward(tok, ctx);
    std::memcpy(hyper_in.f32() + i * (C / 8), h.f32(), static_cast<size_t>(C / 8) * sizeof(float));
  }
  // Upscaling: u1 = act(ln(dc1(keys) + feat_s1)) read from the key tokens; masks = hyper_in · act(dc2(u1) + feat_s0)
  // [M, L, L], the upscaled embedding never stored.
  Tensor u1 = ctx.scratch({C / 4, 2 * E, 2 * E});
  ops::deconv_ln_gelu(keys, E, E, up0_.weight, up0_.bias, feat_s1, up_ln_w_, up_ln_b_, kLayerNorm2dEps, u1,
                      ctx);
  Tensor masks = ctx.scratch({M, L, L});
  ops::deconv_gelu_project(u1, up1_.weight, up1_.bias, feat_s0, hyper_in, masks, ctx);

  // IoU head (sigmoid output) and object score head.
  const Tensor iou_logits = iou_head_.forward(hs.slice0(1, 2), ctx);
  std::vector<float> iou(static_cast<size_t>(M));
  for (int64_t i = 0; i < M; ++i) {
    const float v = iou_logits.f32()[i];
    iou[static_cast<size_t>(i)] = cfg_.iou_prediction_use_sigmoid ? 1.0f / (1.0f + std::exp(-v)) : v;
  }
  const Tensor obj = obj_head_.forward(hs.slice0(0, 1), ctx);

  SamDecoderOutput out;
  out.object_score_logit = obj.f32()[0];
  auto take = [&](int64_t first, int64_t count) {
    out.masks = masks.slice0(first, first + count).clone();
    out.iou.assign(iou.begin() + first, iou.begin() + first + count);
  };
  if (multimask) {
    take(1, M - 1);
  } else if (cfg_.dynamic_multimask_via_stability) {
    // Stability of mask 0: |logit > δ| / |logit > −δ| (1 when empty); below the threshold, the multimask output
    // with the highest predicted IoU (the first on ties, as argmax) replaces it.
    const float delta = static_cast<float>(cfg_.dynamic_multimask_stability_delta);
    int64_t area_i = 0, area_u = 0;
    const float* m0 = masks.f32();
    for (int64_t p = 0; p < L * L; ++p) {
      area_i += m0[p] > delta;
      area_u += m0[p] > -delta;
    }
    const float stability = area_u > 0 ? static_cast<float>(area_i) / static_cast<float>(area_u) : 1.0f;
    if (stability >= static_cast<float>(cfg_.dynamic_multimask_stability_thresh)) {
      take(0, 1);
    } else {
      int64_t best = 1;
      for (int64_t i = 2; i < M; ++i)
        if (iou[static_cast<size_t>(i)] > iou[static_cast<size_t>(best)]) best = i;
      take(best, 1);
    }
  } else {
    take(0, 1);
  }
  return out;
}

}  // namespace sam3
