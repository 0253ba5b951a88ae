// sam3.cpp — DotProductScoring: class logits as the scaled dot product of each decoder query with the mean-pooled
// prompt. The prompt goes through a residual MLP + LayerNorm (all tokens, pads included), is mean-pooled over the
// non-padding tokens (text + boxes + CLS), projected, and dotted with the projected queries; ×1/sqrt(d_proj);
// clamped to ±clamp_max_val.
// ref: sam3/model/model_misc.py (DotProductScoring, MLP(residual=True, out_norm=LayerNorm))
#pragma once
#include "core/context.h"
#include "core/tensor.h"
#include "model/config.h"
#include "model/fusion_encoder.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/mlp.h"
#include "nn/params.h"

namespace sam3 {

class DotProductScoring {
 public:
  // `p` is the scope of `dot_prod_scoring.`.
  DotProductScoring(const Config& cfg, const nn::ParamScope& p);

  // hs [L, Q, d] (the decoder's LN'd outputs; any number of layers L >= 1) -> logits [L, Q].
  // Dumps score.prompt_mlp (P,1,d), score.dot_prod_logits (L,1,Q,1) and out.pred_logits (1,Q,1) (last layer).
  Tensor forward(const Tensor& hs, const PromptView& prompt, const RunContext& ctx) const;

 private:
  int64_t d_ = 0, d_proj_ = 0;
  float clamp_ = 12.0f;
  nn::Mlp prompt_mlp_;
  nn::LayerNorm out_norm_;
  nn::Linear prompt_proj_, hs_proj_;
};

}  // namespace sam3
