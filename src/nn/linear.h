// sam3.cpp — torch.nn.Linear: y = x·Wᵀ + b. Weight (out, in) borrowed from the checkpoint, never copied.
#pragma once
#include "core/context.h"
#include "core/tensor.h"
#include "nn/params.h"

namespace sam3::nn {

struct Linear {
  Tensor weight;  // [out, in]
  Tensor bias;    // [out], or undefined when the layer has no bias
  int64_t in_features = 0, out_features = 0;

  // Keys <prefix>weight and (if has_bias) <prefix>bias.
  static Linear load(const ParamScope& p, int64_t in_features, int64_t out_features, bool has_bias = true);

  // x [..., in] -> y [..., out] (y preallocated, must not alias x).
  void forward(const Tensor& x, Tensor& y, const RunContext& ctx) const;
  // Same, allocating y from ctx's scratch (the arena when there is one: valid until the caller's ArenaScope ends).
  Tensor forward(const Tensor& x, const RunContext& ctx) const;
};

}  // namespace sam3::nn
