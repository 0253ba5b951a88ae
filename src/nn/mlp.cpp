// sam3.cpp — sam3's MLP (see nn/mlp.h). ref: sam3/model/model_misc.py (MLP.forward)
#include "nn/mlp.h"

#include "core/ops.h"

namespace sam3::nn {

Mlp Mlp::load(const ParamScope& p, int64_t in, int64_t hidden, int64_t out, int n_layers) {
  Mlp m;
  for (int k = 0; k < n_layers; ++k) {
    const int64_t i = k == 0 ? in : hidden;
    const int64_t o = k == n_layers - 1 ? out : hidden;
    m.layers.push_back(Linear::load(p.sub("layers").sub(k), i, o));
  }
  return m;
}

Tensor Mlp::forward(const Tensor& x, const RunContext& ctx) const {
  Tensor h = x;
  for (size_t k = 0; k < layers.size(); ++k) {
    h = layers[k].forward(h, ctx);
    if (k + 1 < layers.size()) ops::relu_inplace(h, ctx);
  }
  return h;
}

}  // namespace sam3::nn
