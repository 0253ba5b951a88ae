// sam3.cpp — torch.nn.LayerNorm over the last dimension (biased variance).
#pragma once
#include "core/tensor.h"
#include "nn/params.h"

namespace sam3::nn {

struct LayerNorm {
  Tensor weight, bias;  // [C]
  float eps = 1e-5f;

  static LayerNorm load(const ParamScope& p, int64_t dim, double eps);
  // x, y: [..., C]; y may alias x.
  void forward(const Tensor& x, Tensor& y, int n_threads) const;
};

}  // namespace sam3::nn
