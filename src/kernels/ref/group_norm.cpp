// sam3.cpp — reference GroupNorm (+ optional ReLU): two passes per group, statistics in double.
// ref: torch.nn.GroupNorm (biased variance), used by sam3/model/maskformer_segmentation.py (PixelDecoder)
#include <cmath>

#include "kernels/ref.h"

namespace sam3::kernels::ref {

void group_norm(const float* x, int64_t c, int64_t hw, int64_t groups, const float* gamma, const float* beta,
                float eps, bool relu, float* y) {
  const int64_t cg = c / groups;
  for (int64_t g = 0; g < groups; ++g) {
    const float* xg = x + g * cg * hw;
    const int64_t n = cg * hw;
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += xg[i];
    const double mean = sum / static_cast<double>(n);
    double sq = 0;
    for (int64_t i = 0; i < n; ++i) sq += (xg[i] - mean) * (xg[i] - mean);
    const double rstd = 1.0 / std::sqrt(sq / static_cast<double>(n) + eps);
    for (int64_t ch = g * cg; ch < (g + 1) * cg; ++ch) {
      for (int64_t i = 0; i < hw; ++i) {
        double v = (x[ch * hw + i] - mean) * rstd * gamma[ch] + beta[ch];
        if (relu && v < 0) v = 0;
        y[ch * hw + i] = static_cast<float>(v);
      }
    }
  }
}

}  // namespace sam3::kernels::ref
