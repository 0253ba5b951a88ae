#include "nn/layer_norm.h"

#include "core/ops.h"

namespace sam3::nn {

LayerNorm LayerNorm::load(const ParamScope& p, int64_t dim, double eps) {
  LayerNorm n;
  n.weight = p.get("weight", {dim});
  n.bias = p.get("bias", {dim});
  n.eps = static_cast<float>(eps);
  return n;
}

void LayerNorm::forward(const Tensor& x, Tensor& y, int n_threads) const {
  ops::layer_norm(x, weight, bias, eps, y, n_threads);
}

Tensor LayerNorm::forward(const Tensor& x, int n_threads) const {
  Tensor y = Tensor::empty(x.shape());
  forward(x, y, n_threads);
  return y;
}

}  // namespace sam3::nn
