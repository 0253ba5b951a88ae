#include "nn/linear.h"

#include <string>

#include "core/error.h"
#include "core/ops.h"

namespace sam3::nn {

std::shared_ptr<const ops::PackedWeight> pack_rows(const StoredWeight& w, int64_t r0, int64_t r1, Precision precision) {
  const Tensor rows = w.weight.slice0(r0, r1);
  if (!w.scale.defined() || w.scale.raw() == nullptr) return ops::pack_weight(rows, nullptr, precision);
  if (w.scale.dim() != 1 || w.scale.size(0) != w.weight.size(0))
    throw Error("pack_rows: the scale " + shape_str(w.scale.shape()) + " does not match the weight " +
                shape_str(w.weight.shape()));
  const Tensor scale = w.scale.slice0(r0, r1);
  return ops::pack_weight(rows, &scale, precision);
}

Linear Linear::load(const ParamScope& p, int64_t in_features, int64_t out_features, bool has_bias) {
  Linear l;
  l.in_features = in_features;
  l.out_features = out_features;
  const StoredWeight w = p.matmul_weight("weight", {out_features, in_features});
  l.weight = w.weight;
  if (has_bias) l.bias = p.get("bias", {out_features});
  if (p.precision() != Precision::F32 && !p.collecting()) {
    l.packed = pack_rows(w, 0, out_features, p.precision());
    if (!ops::packed_weight_borrows(*l.packed)) p.release(w.weight);
  }
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
