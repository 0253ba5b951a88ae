// sam3.cpp — per-axis taps of the resize kernels (see kernels/resize_taps.h), shared by the reference and the
// optimised kernels so that both compute the same float operations.
// ref: torch aten/src/ATen/native/cpu/UpSampleKernel.cpp (HelperInterpBase::_compute_weights_aa,
//      cpu_upsample_linear_channels_last), aten/src/ATen/native/UpSample.h (compute_source_index_and_lambda)
#include "core/strict_fp.h"  // every product rounded as torch rounds it

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "kernels/resize_taps.h"

namespace sam3::kernels {

AATaps aa_bilinear_taps(int64_t in_size, int64_t out_size) {
  if (in_size <= 0 || out_size <= 0)
    throw Error("aa_bilinear_taps: sizes must be positive, got " + std::to_string(in_size) + " -> " +
                std::to_string(out_size));
  // ref: UpSampleKernel.cpp HelperInterpBase::_compute_weights_aa, scalar_t = float (every cast below is torch's)
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  const float support = scale >= 1.0f ? scale : 1.0f;
  const float invscale = scale >= 1.0f ? static_cast<float>(1.0 / scale) : 1.0f;
  AATaps t;
  t.max_taps = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  t.start.resize(static_cast<size_t>(out_size));
  t.count.resize(static_cast<size_t>(out_size));
  t.weights.assign(static_cast<size_t>(out_size * t.max_taps), 0.0f);
  for (int64_t i = 0; i < out_size; ++i) {
    const float center = static_cast<float>(scale * (static_cast<double>(i) + 0.5));
    const int64_t start = std::max(static_cast<int64_t>(center - support + 0.5), int64_t{0});
    int64_t count = std::min(static_cast<int64_t>(center + support + 0.5), in_size) - start;
    count = std::clamp(count, int64_t{1}, t.max_taps);
    float* w = &t.weights[static_cast<size_t>(i * t.max_taps)];
    float total = 0.0f;
    for (int64_t j = 0; j < count; ++j) {
      // (j + start) - center is int64 - float -> float; + 0.5 and * invscale in double; the filter takes float.
      const float x = static_cast<float>((static_cast<float>(j + start) - center + 0.5) * invscale);
      const float ax = std::fabs(x);
      w[j] = ax < 1.0f ? 1.0f - ax : 0.0f;
      total += w[j];
    }
    if (total != 0.0f)
      for (int64_t j = 0; j < count; ++j) w[j] /= total;
    t.start[static_cast<size_t>(i)] = start;
    t.count[static_cast<size_t>(i)] = count;
  }
  return t;
}

LinearTaps linear_taps(int64_t in_size, int64_t out_size) {
  if (in_size <= 0 || out_size <= 0)
    throw Error("linear_taps: sizes must be positive, got " + std::to_string(in_size) + " -> " +
                std::to_string(out_size));
  // ref: UpSampleKernel.cpp cpu_upsample_linear_channels_last + UpSample.h compute_source_index_and_lambda
  LinearTaps t;
  const size_t n = static_cast<size_t>(out_size);
  t.i0.resize(n);
  t.i1.resize(n);
  t.l0.resize(n);
  t.l1.resize(n);
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  for (int64_t i = 0; i < out_size; ++i) {
    const size_t k = static_cast<size_t>(i);
    if (in_size == out_size) {
      t.i0[k] = t.i1[k] = i;
      t.l0[k] = 1.0f;
      t.l1[k] = 0.0f;
      continue;
    }
    const double src = std::max(static_cast<double>(scale) * (static_cast<double>(i) + 0.5) - 0.5, 0.0);
    const int64_t i0 = std::min(static_cast<int64_t>(src), in_size - 1);
    t.i0[k] = i0;
    t.i1[k] = i0 + (i0 < in_size - 1 ? 1 : 0);
    t.l1[k] = static_cast<float>(src - static_cast<double>(i0));
    t.l0[k] = 1.0f - t.l1[k];
  }
  return t;
}

}  // namespace sam3::kernels
