// sam3.cpp — the SAM prompt encoder of the interactive head: clicks and box corners -> sparse tokens (random-Fourier
// positions + a per-label embedding, a "not a point" padding token), a previous low-res mask -> dense embedding
// (mask_downscaling convs) or the learnt no-mask embedding; and the dense positional encoding of the image grid.
// ref: sam3/sam/prompt_encoder.py (PromptEncoder, PositionEmbeddingRandom)
#pragma once
#include <cstdint>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "model/config.h"
#include "nn/conv2d.h"
#include "nn/params.h"

namespace sam3 {

// One prompt point in the model's input frame (0..resolution, before the +0.5 pixel-centre shift) with its label:
// 0 negative click, 1 positive click, 2 box top-left, 3 box bottom-right, -1 padding ("not a point").
struct SamPoint {
  float x = 0, y = 0;
  int label = 1;
};

class SamPromptEncoder {
 public:
  // `p` is the scope "tracker.sam_prompt_encoder.".
  SamPromptEncoder(const PvsConfig& cfg, int input_size, const nn::ParamScope& p);

  int64_t embed_dim() const { return dim_; }
  // get_dense_pe: [1, C, E, E] (computed once at construction).
  const Tensor& dense_pe() const { return dense_pe_; }
  const Tensor& dense_pe_tokens() const { return dense_pe_tokens_; }  // the same as tokens [E·E, C]
  // _embed_points with pad=True (the predictor always passes the box as two points): [N + 1, C]; no points: [0, C].
  Tensor embed_points(const std::vector<SamPoint>& points) const;
  // Dense embedding [1, C, E, E]: mask_downscaling(mask [1, L, L]) or, with an undefined mask, no_mask_embed.
  Tensor embed_mask(const Tensor* mask, const RunContext& ctx) const;

 private:
  // _pe_encoding of points already normalised to [0, 1]: out[i, :] = [sin(2π·(2c-1)·G), cos(...)], C values.
  void pe_encoding(const float* xy, int64_t n, float* out) const;

  int64_t dim_ = 0, grid_ = 0, mask_in_ = 0, low_res_ = 0;
  int input_size_ = 0;
  Tensor gaussian_;                       // positional_encoding_gaussian_matrix [2, C/2]
  std::vector<Tensor> point_embed_;       // point_embeddings.{0..3}.weight [1, C]
  Tensor not_a_point_;                    // [1, C]
  nn::Conv2d down0_, down1_, down2_;      // mask_downscaling.0 (k2 s2), .3 (k2 s2), .6 (1x1)
  Tensor ln0_w_, ln0_b_, ln1_w_, ln1_b_;  // mask_downscaling.1 / .4 (LayerNorm2d, eps 1e-6)
  Tensor no_mask_;                        // no_mask_embed.weight [1, C]
  Tensor dense_pe_, dense_pe_tokens_;
};

// LayerNorm2d's eps (sam3/sam/common.py): also the mask decoder's fused upscaling norm (ops::deconv_ln_gelu).
constexpr float kLayerNorm2dEps = 1e-6f;
// LayerNorm2d (sam3/sam/common.py): normalise each pixel over the channels of x [C, H, W] (eps kLayerNorm2dEps), in
// place. Through tokens [H·W, C] (arena scratch) and ops::layer_norm.
void layer_norm_2d(Tensor& x, const Tensor& weight, const Tensor& bias, const RunContext& ctx);

}  // namespace sam3
