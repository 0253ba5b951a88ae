#include "nn/linear.h"

#include <string>

#include "core/error.h"
#include "core/ops.h"

namespace sam3::nn {

Linear Linear::load(const ParamScope& p, int64_t in_features, int64_t out_features, bool has_bias) {
  Linear l;
  l.in_features = in_features;
  l.out_features = out_features;
  const StoredWeight w = p.matmul_weight("weight", {out_features, in_features});
  l.weight = w.weight;
  if (has_bias) l.bias = p.get("bias", {out_features});
  l.packed = pack_row_ranges(p, w, {0, out_features}).front();
  return l;
}

void Linear::forward(const Tensor& x, Tensor& y, const RunContext& ctx) const {
  const Tensor* b = bias.defined() ? &bias : nullptr;
  if (packed)
    ops::linear(x, *packed, b, y, ctx);
  else
    ops::linear(x, weight, b, y, ctx);
}

Tensor Linear::forward(const Tensor& x, const RunContext& ctx) const {
  Shape s = x.shape();
  if (s.empty() || s.back() != in_features)
    throw Error("Linear: input " + shape_str(s) + " does not end in " + std::to_string(in_features));
  s.back() = out_features;
  Tensor y = ctx.scratch(s);
  forward(x, y, ctx);
  return y;
}

}  // namespace sam3::nn
