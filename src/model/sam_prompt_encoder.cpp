// ref: sam3/sam/prompt_encoder.py (PromptEncoder, PositionEmbeddingRandom), sam3/sam/common.py (LayerNorm2d)
#include "model/sam_prompt_encoder.h"

#include <cmath>
#include <cstring>

#include "core/arena.h"
#include "core/error.h"
#include "core/ops.h"
#include "nn/tokens.h"

namespace sam3 {

void layer_norm_2d(Tensor& x, const Tensor& weight, const Tensor& bias, const RunContext& ctx) {
  const int64_t c = x.size(-3), hw = x.size(-2) * x.size(-1);
  ArenaScope scope(ctx.arena);
  Tensor tokens = ctx.scratch({hw, c});
  nn::transpose_add(x.f32(), nullptr, c, hw, tokens.f32(), ctx.n_threads);
  ops::layer_norm(tokens, weight, bias, kLayerNorm2dEps, tokens, ctx);
  nn::transpose_add(tokens.f32(), nullptr, hw, c, x.f32(), ctx.n_threads);
}

SamPromptEncoder::SamPromptEncoder(const PvsConfig& cfg, int input_size, const nn::ParamScope& p)
    : dim_(cfg.prompt_embed_dim),
      grid_(cfg.image_embedding_size),
      mask_in_(cfg.mask_in_chans),
      low_res_(cfg.low_res_mask_size),
      input_size_(input_size) {
  const int64_t C = dim_;
  gaussian_ = p.sub("pe_layer").get("positional_encoding_gaussian_matrix", {2, C / 2});
  for (int i = 0; i < 4; ++i) point_embed_.push_back(p.sub("point_embeddings").sub(i).get("weight", {1, C}));
  not_a_point_ = p.sub("not_a_point_embed").get("weight", {1, C});
  const nn::ParamScope d = p.sub("mask_downscaling");
  down0_ = nn::Conv2d::load(d.sub(0), 1, mask_in_ / 4, 2, 2, 0);
  ln0_w_ = d.sub(1).get("weight", {mask_in_ / 4});
  ln0_b_ = d.sub(1).get("bias", {mask_in_ / 4});
  down1_ = nn::Conv2d::load(d.sub(3), mask_in_ / 4, mask_in_, 2, 2, 0);
  ln1_w_ = d.sub(4).get("weight", {mask_in_});
  ln1_b_ = d.sub(4).get("bias", {mask_in_});
  down2_ = nn::Conv2d::load(d.sub(6), mask_in_, C, 1, 1, 0);
  no_mask_ = p.sub("no_mask_embed").get("weight", {1, C});
  if (p.collecting()) return;

  // PositionEmbeddingRandom.forward((E, E)): cell centres (cumsum - 0.5) / E, stacked (x, y).
  const int64_t E = grid_;
  std::vector<float> xy(static_cast<size_t>(E * E * 2));
  for (int64_t y = 0; y < E; ++y)
    for (int64_t x = 0; x < E; ++x) {
      xy[static_cast<size_t>((y * E + x) * 2)] = (static_cast<float>(x + 1) - 0.5f) / static_cast<float>(E);
      xy[static_cast<size_t>((y * E + x) * 2 + 1)] = (static_cast<float>(y + 1) - 0.5f) / static_cast<float>(E);
    }
  Tensor pe = Tensor::empty({E * E, C});
  pe_encoding(xy.data(), E * E, pe.f32());
  dense_pe_ = nn::tokens_to_nchw(pe, E, E).reshape({1, C, E, E});
  dense_pe_tokens_ = pe;
}

void SamPromptEncoder::pe_encoding(const float* xy, int64_t n, float* out) const {
  // coords = 2·c − 1; coords @ G; 2π·coords (python's 2·np.pi, rounded to float32 once); [sin, cos].
  const int64_t half = dim_ / 2;
  const float two_pi = static_cast<float>(2.0 * M_PI);
  const float* g = gaussian_.f32();
  for (int64_t i = 0; i < n; ++i) {
    const float cx = 2.0f * xy[2 * i] - 1.0f, cy = 2.0f * xy[2 * i + 1] - 1.0f;
    float* o = out + i * dim_;
    for (int64_t j = 0; j < half; ++j) {
      const float v = two_pi * (cx * g[j] + cy * g[half + j]);
      o[j] = std::sin(v);
      o[half + j] = std::cos(v);
    }
  }
}

Tensor SamPromptEncoder::embed_points(const std::vector<SamPoint>& points) const {
  // No points at all (a mask-only prompt): PromptEncoder.forward never calls _embed_points, the sparse prompt is
  // empty (no padding point either).
  if (points.empty()) return Tensor::empty({0, dim_});
  // _embed_points(pad=True): +0.5 (pixel centre), a (0, 0) padding point labelled −1, / input size, encode.
  const int64_t n = static_cast<int64_t>(points.size()) + 1;
  std::vector<float> xy(static_cast<size_t>(2 * n), 0.0f);
  std::vector<int> labels(static_cast<size_t>(n), -1);
  const float s = static_cast<float>(input_size_);
  for (size_t i = 0; i < points.size(); ++i) {
    xy[2 * i] = (points[i].x + 0.5f) / s;
    xy[2 * i + 1] = (points[i].y + 0.5f) / s;
    labels[i] = points[i].label;
    if (labels[i] < 0 || labels[i] > 3)
      throw Error("SamPromptEncoder: point " + std::to_string(i) + " has label " + std::to_string(labels[i]) +
                  " (0 negative, 1 positive, 2/3 box corners)");
  }
  xy[2 * (n - 1)] = 0.5f / s;  // the padding point (0, 0) + 0.5, encoded and then replaced below
  xy[2 * (n - 1) + 1] = 0.5f / s;
  Tensor out = Tensor::empty({n, dim_});
  pe_encoding(xy.data(), n, out.f32());
  for (int64_t i = 0; i < n; ++i) {
    float* o = out.f32() + i * dim_;
    const int l = labels[static_cast<size_t>(i)];
    if (l == -1) {
      std::memcpy(o, not_a_point_.f32(), static_cast<size_t>(dim_) * sizeof(float));
      continue;
    }
    const float* e = point_embed_[static_cast<size_t>(l)].f32();
    for (int64_t c = 0; c < dim_; ++c) o[c] += e[c];
  }
  return out;
}

Tensor SamPromptEncoder::embed_mask(const Tensor* mask, const RunContext& ctx) const {
  const int64_t C = dim_, E = grid_;
  Tensor out = Tensor::empty({1, C, E, E});
  if (!mask || !mask->defined()) {
    float* o = out.f32();
    const float* e = no_mask_.f32();
    for (int64_t c = 0; c < C; ++c) std::fill(o + c * E * E, o + (c + 1) * E * E, e[c]);
    return out;
  }
  check_tensor(*mask, {1, low_res_, low_res_}, DType::F32, "SamPromptEncoder mask input");
  // mask_downscaling: conv k2 s2 -> LayerNorm2d -> GELU -> conv k2 s2 -> LayerNorm2d -> GELU -> conv 1x1.
  Tensor a = Tensor::empty({mask_in_ / 4, low_res_ / 2, low_res_ / 2});
  down0_.forward(*mask, a, ctx);
  layer_norm_2d(a, ln0_w_, ln0_b_, ctx);
  ops::gelu_inplace(a, ctx);
  Tensor b = Tensor::empty({mask_in_, E, E});
  down1_.forward(a, b, ctx);
  layer_norm_2d(b, ln1_w_, ln1_b_, ctx);
  ops::gelu_inplace(b, ctx);
  Tensor y = out.reshape({C, E, E});
  down2_.forward(b, y, ctx);
  return out;
}

}  // namespace sam3
