// sam3.cpp — sam3's MLP (model_misc.MLP): num_layers Linear layers `layers.{k}` (in -> hidden -> ... -> out), ReLU
// between them and none after the last. Built from a key prefix; weights borrowed. The optional residual and
// out_norm of the upstream class are left to the caller (DotProductScoring adds them itself).
// ref: sam3/model/model_misc.py (MLP)
#pragma once
#include <cstdint>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "nn/linear.h"
#include "nn/params.h"

namespace sam3::nn {

struct Mlp {
  std::vector<Linear> layers;

  // Keys <prefix>layers.{k}.{weight,bias}, k < n_layers.
  static Mlp load(const ParamScope& p, int64_t in, int64_t hidden, int64_t out, int n_layers);
  // x [..., in] -> [..., out].
  Tensor forward(const Tensor& x, const RunContext& ctx) const;
};

}  // namespace sam3::nn
