#include "nn/linear.h"

#include "core/ops.h"

namespace sam3::nn {

Linear Linear::load(const ParamScope& p, int64_t in_features, int64_t out_features, bool has_bias) {
  Linear l;
  l.in_features = in_features;
  l.out_features = out_features;
  l.weight = p.get("weight", {out_features, in_features});
  if (has_bias) l.bias = p.get("bias", {out_features});
  return l;
}

void Linear::forward(const Tensor& x, Tensor& y, int n_threads) const {
  ops::linear(x, weight, bias.defined() ? &bias : nullptr, y, n_threads);
}

}  // namespace sam3::nn
