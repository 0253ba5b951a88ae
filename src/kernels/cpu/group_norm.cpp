// sam3.cpp — GroupNorm (+ optional fused ReLU), parallel over channels.
// Pass 1: per-channel sum and sum of squares in double (exact enough that one pass is safe: activations are O(1..1e3)
// and double keeps ~16 digits); combine per group. Pass 2: normalise with per-channel scale/shift, ReLU fused.
// ref: torch.nn.GroupNorm, used by sam3/model/maskformer_segmentation.py (PixelDecoder)
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu.h"
#include "core/parallel.h"

namespace sam3::kernels::cpu {

void group_norm(const float* x, int64_t c, int64_t hw, int64_t groups, const float* gamma, const float* beta,
                float eps, bool relu, float* y, int n_threads) {
  const int64_t cg = c / groups;
  std::vector<double> sum(static_cast<size_t>(c)), sq(static_cast<size_t>(c));
  parallel_for(n_threads, c, [&](int64_t ch) {
    const float* p = x + ch * hw;
    double s = 0, q = 0;
    for (int64_t i = 0; i < hw; ++i) {
      const double v = p[i];
      s += v;
      q += v * v;
    }
    sum[static_cast<size_t>(ch)] = s;
    sq[static_cast<size_t>(ch)] = q;
  });
  std::vector<float> scale(static_cast<size_t>(c)), shift(static_cast<size_t>(c));
  const double n = static_cast<double>(cg * hw);
  for (int64_t g = 0; g < groups; ++g) {
    double s = 0, q = 0;
    for (int64_t ch = g * cg; ch < (g + 1) * cg; ++ch) {
      s += sum[static_cast<size_t>(ch)];
      q += sq[static_cast<size_t>(ch)];
    }
    const double mean = s / n;
    const double var = std::max(q / n - mean * mean, 0.0);
    const double rstd = 1.0 / std::sqrt(var + eps);
    for (int64_t ch = g * cg; ch < (g + 1) * cg; ++ch) {
      scale[static_cast<size_t>(ch)] = static_cast<float>(rstd * gamma[ch]);
      shift[static_cast<size_t>(ch)] = static_cast<float>(beta[ch] - mean * rstd * gamma[ch]);
    }
  }
  parallel_for(n_threads, c, [&](int64_t ch) {
    const float a = scale[static_cast<size_t>(ch)], b = shift[static_cast<size_t>(ch)];
    const float* p = x + ch * hw;
    float* o = y + ch * hw;
    if (relu) {
      for (int64_t i = 0; i < hw; ++i) {
        const float v = p[i] * a + b;
        o[i] = v > 0.0f ? v : 0.0f;
      }
    } else {
      for (int64_t i = 0; i < hw; ++i) o[i] = p[i] * a + b;
    }
  });
}

}  // namespace sam3::kernels::cpu
