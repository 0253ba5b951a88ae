// sam3.cpp — torch.nn.Linear: y = x·Wᵀ + b. Weight (out, in) borrowed from the checkpoint, never copied; converted
// once to bf16/int8 (`packed`: at load, or on first use where the scope defers it) when the scope it is loaded
// through asks for a reduced precision, or taken as a converted file stores it (BF16 bits, I8 + scale:
// ops::pack_weight never re-rounds them). Once packed, the source's pages are given back (ParamScope::release)
// unless the packed weight still reads them.
#pragma once
#include <memory>

#include "core/context.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "nn/packed_ref.h"
#include "nn/params.h"

namespace sam3::nn {

struct Linear {
  Tensor weight;  // [out, in] as stored: F32 (used when not packed), or a converted file's BF16 / I8 / F16
  Tensor bias;    // [out], or undefined when the layer has no bias
  PackedRef packed;  // null: f32 (weight used as stored)
  int64_t in_features = 0, out_features = 0;

  // Keys <prefix>weight and (if has_bias) <prefix>bias. Packed to p.precision() unless that is F32 (or collecting).
  static Linear load(const ParamScope& p, int64_t in_features, int64_t out_features, bool has_bias = true);

  // x [..., in] -> y [..., out] (y preallocated, must not alias x).
  void forward(const Tensor& x, Tensor& y, const RunContext& ctx) const;
  // Same, allocating y from ctx's scratch (the arena when there is one: valid until the caller's ArenaScope ends).
  Tensor forward(const Tensor& x, const RunContext& ctx) const;
};

}  // namespace sam3::nn
