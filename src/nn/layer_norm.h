// sam3.cpp — torch.nn.LayerNorm over the last dimension (biased variance).
#pragma once
#include "core/context.h"
#include "core/tensor.h"
#include "nn/params.h"

namespace sam3::nn {

// torch.nn.LayerNorm's default eps, which every norm outside the ViT uses (torch.nn.LayerNorm(d) in encoder.py, decoder.py, ...).
constexpr double kLayerNormEps = 1e-5;

struct LayerNorm {
  Tensor weight, bias;  // [C]
  float eps = 1e-5f;

  static LayerNorm load(const ParamScope& p, int64_t dim, double eps);
  // x, y: [..., C]; y may alias x.
  void forward(const Tensor& x, Tensor& y, const RunContext& ctx) const;
  // Same, allocating y from ctx's scratch (the arena when there is one: valid until the caller's ArenaScope ends).
  Tensor forward(const Tensor& x, const RunContext& ctx) const;
};

}  // namespace sam3::nn
