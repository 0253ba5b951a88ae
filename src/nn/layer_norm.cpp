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

void LayerNorm::forward(const Tensor& x, Tensor& y, const RunContext& ctx) const {
  ops::layer_norm(x, weight, bias, eps, y, ctx);
}

Tensor LayerNorm::forward(const Tensor& x, const RunContext& ctx) const {
  Tensor y = ctx.scratch(x.shape());
  forward(x, y, ctx);
  return y;
}

}  // namespace sam3::nn
