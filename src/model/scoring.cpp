// sam3.cpp — DotProductScoring (see scoring.h).
// ref: sam3/model/model_misc.py (DotProductScoring.forward, mean_pool_text)
#include "model/scoring.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/ops.h"

namespace sam3 {

DotProductScoring::DotProductScoring(const Config& cfg, const nn::ParamScope& p) {
  const ScoringConfig& s = cfg.scoring;
  d_ = cfg.d_model;
  d_proj_ = s.d_proj;
  clamp_ = static_cast<float>(s.clamp_max_val);
  if (s.prompt_mlp_layers < 1) throw Error("scoring: scoring.prompt_mlp_layers must be >= 1");
  prompt_mlp_ = nn::Mlp::load(p.sub("prompt_mlp"), d_, s.prompt_mlp_hidden, d_, s.prompt_mlp_layers);
  out_norm_ = nn::LayerNorm::load(p.sub("prompt_mlp").sub("out_norm"), d_, nn::kLayerNormEps);
  prompt_proj_ = nn::Linear::load(p.sub("prompt_proj"), d_, d_proj_);
  hs_proj_ = nn::Linear::load(p.sub("hs_proj"), d_, d_proj_);
}

Tensor DotProductScoring::forward(const Tensor& hs, const PromptView& prompt, const RunContext& ctx) const {
  ArenaScope scope(ctx.arena);  // the intermediates; the result is owned
  check_prompt(prompt, d_, "scoring");
  if (hs.dim() != 3 || hs.size(2) != d_)
    throw Error("scoring: hs must be [L, Q, " + std::to_string(d_) + "], got " + shape_str(hs.shape()));
  const int64_t P = prompt.length(), L = hs.size(0), Q = hs.size(1);
  const Tensor ptok = prompt.tokens.reshape({P, d_});

  // pm = LN(prompt + MLP(prompt)) over all P tokens.
  Tensor pm = prompt_mlp_.forward(ptok, ctx);
  ops::add(pm, ptok, pm, ctx);
  out_norm_.forward(pm, pm, ctx);
  // Masked mean over the non-padding tokens, count clamped to >= 1.
  const uint8_t* mask = prompt.mask_data();
  Tensor pooled = Tensor::zeros({1, d_});
  std::vector<double> acc(static_cast<size_t>(d_), 0.0);
  int64_t n_valid = 0;
  for (int64_t t = 0; t < P; ++t) {
    if (mask[t]) continue;
    ++n_valid;
    for (int64_t c = 0; c < d_; ++c) acc[static_cast<size_t>(c)] += pm.f32()[t * d_ + c];
  }
  const float denom = static_cast<float>(std::max<int64_t>(n_valid, 1));
  for (int64_t c = 0; c < d_; ++c) pooled.f32()[c] = static_cast<float>(acc[static_cast<size_t>(c)]) / denom;

  const Tensor pp = prompt_proj_.forward(pooled, ctx);  // [1, d_proj]
  const Tensor hq = hs_proj_.forward(hs, ctx);          // [L, Q, d_proj]
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d_proj_)));
  Tensor logits = Tensor::empty({L, Q});
  // logits = clamp((hq · pp) · scale, ±clamp) as a [L*Q, d_proj] x [d_proj] product.
  Tensor ppt = pp.reshape({1, d_proj_});
  Tensor raw = ctx.scratch({L * Q, 1});
  ops::linear(hq.reshape({L * Q, d_proj_}), ppt, nullptr, raw, ctx);
  for (int64_t i = 0; i < L * Q; ++i)
    logits.f32()[i] = std::min(std::max(raw.f32()[i] * scale, -clamp_), clamp_);

  if (ctx.dumping()) {
    ctx.dump("score.prompt_mlp", pm.reshape({P, 1, d_}));
    ctx.dump("score.dot_prod_logits", logits.reshape({L, 1, Q, 1}));
    ctx.dump("out.pred_logits", logits.slice0(L - 1, L).reshape({1, Q, 1}));
  }
  return logits;
}

}  // namespace sam3
