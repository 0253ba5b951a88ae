// sam3.cpp — fusion encoder (see fusion_encoder.h).
// ref: sam3/model/encoder.py (TransformerEncoderFusion.forward, TransformerEncoderLayer.forward_pre)
#include "model/fusion_encoder.h"

#include <string>

#include "core/error.h"
#include "nn/tokens.h"

namespace sam3 {

void check_prompt(const PromptView& p, int64_t d_model, const char* who) {
  const int64_t P = p.mask.numel();
  if (p.mask.dtype() != DType::U8 && p.mask.dtype() != DType::Bool)
    throw Error(std::string(who) + ": prompt mask must be U8/Bool, got " + dtype_name(p.mask.dtype()));
  if (p.tokens.dtype() != DType::F32)
    throw Error(std::string(who) + ": prompt tokens must be F32, got " + dtype_name(p.tokens.dtype()));
  if (P == 0 || p.tokens.numel() != P * d_model || p.tokens.size(-1) != d_model)
    throw Error(std::string(who) + ": prompt tokens " + shape_str(p.tokens.shape()) + " do not match mask " +
                shape_str(p.mask.shape()) + " and d_model " + std::to_string(d_model));
}

FusionEncoder::FusionEncoder(const Config& cfg, const nn::ParamScope& p) {
  const EncoderConfig& e = cfg.encoder;
  d_ = cfg.d_model;
  if (!e.pre_norm) throw Error("fusion encoder: encoder.pre_norm=false (post-norm) is not implemented");
  if (e.num_feature_levels != 1) throw Error("fusion encoder: encoder.num_feature_levels must be 1");
  if (e.add_pooled_text_to_img_feat) throw Error("fusion encoder: encoder.add_pooled_text_to_img_feat is not implemented");
  // pos_enc_at_cross_attn_keys would add prompt_pos, which is all zeros (Sam3Image._run_encoder): forward() passes
  // no memory pos, so the flag has nothing to add.
  const auto o = TransformerEncoderLayer::Options::from(e, d_);
  for (int i = 0; i < e.num_layers; ++i) layers_.push_back(TransformerEncoderLayer::load(p.sub("layers").sub(i), o));
}

namespace {

void check_image(const Tensor& feat, const Tensor& pos, int64_t d) {
  if (feat.shape() != pos.shape() || feat.size(-3) != d)
    throw Error("fusion encoder: image features " + shape_str(feat.shape()) + " and position encoding " +
                shape_str(pos.shape()) + " must both be [1, " + std::to_string(d) + ", H, W]");
}

}  // namespace

Tensor FusionEncoder::image_prefix(const Tensor& feat, const Tensor& pos, const RunContext& ctx) const {
  check_image(feat, pos, d_);
  Tensor x = nn::nchw_to_tokens(feat);  // [HW, d]
  if (!layers_.empty()) layers_[0].forward_self(x, nn::nchw_to_tokens(pos), nullptr, ctx);
  return x;
}

FusionEncoderOutput FusionEncoder::forward(const Tensor& feat, const Tensor& pos, const PromptView& prompt,
                                           const RunContext& ctx, const Tensor* prefix) const {
  check_prompt(prompt, d_, "fusion encoder");
  check_image(feat, pos, d_);
  FusionEncoderOutput out;
  out.pos = nn::nchw_to_tokens(pos);
  const int64_t hw = out.pos.size(0);
  if (prefix && (prefix->dtype() != DType::F32 || prefix->shape() != Shape{hw, d_}))
    throw Error("fusion encoder: image prefix " + shape_str(prefix->shape()) + " does not match the image");
  Tensor x = prefix ? prefix->clone() : nn::nchw_to_tokens(feat);  // [HW, d]; becomes the memory
  const Tensor ptok = prompt.tokens.reshape({prompt.length(), d_});
  for (size_t i = 0; i < layers_.size(); ++i) {
    // Image tokens (pos on the self-attention queries/keys) attend to the prompt (no pos, key-padding masked).
    if (i > 0 || !prefix) layers_[i].forward_self(x, out.pos, nullptr, ctx);
    layers_[i].forward_cross_ffn(x, ptok, out.pos, Tensor(), prompt.mask_data(), ctx);
    ctx.dump("enc.layer" + std::to_string(i), x.reshape({1, hw, d_}));
  }
  out.memory = x;
  ctx.dump("enc.memory", x.reshape({hw, 1, d_}));
  return out;
}

}  // namespace sam3
