// sam3.cpp — fusion encoder (see fusion_encoder.h).
// ref: sam3/model/encoder.py (TransformerEncoderFusion.forward, TransformerEncoderLayer.forward_pre)
#include "model/fusion_encoder.h"

#include <string>

#include "core/error.h"
#include "core/ops.h"

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
  if (e.activation != "relu" && e.activation != "gelu")
    throw Error("fusion encoder: encoder.activation '" + e.activation + "' is not relu/gelu");
  relu_ = e.activation == "relu";
  pos_at_attn_ = e.pos_enc_at_attn;
  pos_at_cross_queries_ = e.pos_enc_at_cross_attn_queries;
  // pos_enc_at_cross_attn_keys would add prompt_pos, which is all zeros (Sam3Image._run_encoder): nothing to do.
  const double eps = 1e-5;  // nn.LayerNorm default (spec §18)
  for (int i = 0; i < e.num_layers; ++i) {
    nn::ParamScope l = p.sub("layers").sub(i);
    FusionEncoderLayer L;
    L.self_attn = det::MultiheadAttention::load(l.sub("self_attn"), d_, e.num_heads);
    L.cross_attn_image = det::MultiheadAttention::load(l.sub("cross_attn_image"), d_, e.num_heads);
    L.linear1 = nn::Linear::load(l.sub("linear1"), d_, e.dim_feedforward);
    L.linear2 = nn::Linear::load(l.sub("linear2"), e.dim_feedforward, d_);
    L.norm1 = nn::LayerNorm::load(l.sub("norm1"), d_, eps);
    L.norm2 = nn::LayerNorm::load(l.sub("norm2"), d_, eps);
    L.norm3 = nn::LayerNorm::load(l.sub("norm3"), d_, eps);
    layers_.push_back(std::move(L));
  }
}

FusionEncoderOutput FusionEncoder::forward(const Tensor& feat, const Tensor& pos, const PromptView& prompt,
                                           int n_threads, Dumper* dump) const {
  check_prompt(prompt, d_, "fusion encoder");
  if (feat.shape() != pos.shape() || feat.size(-3) != d_)
    throw Error("fusion encoder: image features " + shape_str(feat.shape()) + " and position encoding " +
                shape_str(pos.shape()) + " must both be [1, " + std::to_string(d_) + ", H, W]");
  FusionEncoderOutput out;
  Tensor x = det::nchw_to_tokens(feat);  // [HW, d]; becomes the memory
  out.pos = det::nchw_to_tokens(pos);
  const int64_t hw = x.size(0);
  const Tensor ptok = prompt.tokens.reshape({prompt.length(), d_});
  const det::AttnBias no_bias;

  for (size_t i = 0; i < layers_.size(); ++i) {
    const FusionEncoderLayer& L = layers_[i];
    // ref: TransformerEncoderLayer.forward_pre
    {  // self-attention: q = k = LN(x) + pos, v = LN(x)
      Tensor t = det::layer_norm(L.norm1, x, n_threads);
      Tensor qk = pos_at_attn_ ? det::add(t, out.pos, n_threads) : t;
      Tensor a = L.self_attn.forward(qk, qk, t, nullptr, no_bias, n_threads);
      det::add_inplace(x, a, n_threads);
    }
    {  // cross-attention to the prompt (no pos on keys: prompt_pos is zero), key-padding masked
      Tensor t = det::layer_norm(L.norm2, x, n_threads);
      Tensor q = pos_at_cross_queries_ ? det::add(t, out.pos, n_threads) : t;
      Tensor a = L.cross_attn_image.forward(q, ptok, ptok, prompt.mask_data(), no_bias, n_threads);
      det::add_inplace(x, a, n_threads);
    }
    {  // FFN
      Tensor t = det::layer_norm(L.norm3, x, n_threads);
      Tensor h = det::linear(L.linear1, t, n_threads);
      if (relu_)
        ops::relu_inplace(h, n_threads);
      else
        ops::gelu_inplace(h, n_threads);
      det::add_inplace(x, det::linear(L.linear2, h, n_threads), n_threads);
    }
    if (dump && dump->enabled()) dump->add("enc.layer" + std::to_string(i), x.reshape({1, hw, d_}));
  }
  out.memory = x;
  if (dump && dump->enabled()) dump->add("enc.memory", x.reshape({hw, 1, d_}));
  return out;
}

}  // namespace sam3
