// sam3.cpp — reference LayerNorm (biased variance, two passes, double), and LayerNorm(x + bias).
// ref: torch.nn.functional.layer_norm
#include <cmath>
#include <vector>

#include "kernels/ref.h"

namespace sam3::kernels::ref {

void layer_norm(const float* x, const float* gamma, const float* beta, float eps, float* y, int64_t rows,
                int64_t C) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    double mean = 0;
    for (int64_t c = 0; c < C; ++c) mean += xr[c];
    mean /= static_cast<double>(C);
    double var = 0;
    for (int64_t c = 0; c < C; ++c) var += (xr[c] - mean) * (xr[c] - mean);
    var /= static_cast<double>(C);
    double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t c = 0; c < C; ++c) yr[c] = static_cast<float>((xr[c] - mean) * inv * gamma[c] + beta[c]);
  }
}

void bias_layer_norm(const float* x, const float* bias, const float* gamma, const float* beta, float eps, float* y,
                     int64_t rows, int64_t C) {
  std::vector<double> v(static_cast<size_t>(C));
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    double mean = 0;
    for (int64_t c = 0; c < C; ++c) {
      v[static_cast<size_t>(c)] = static_cast<double>(xr[c]) + bias[c];
      mean += v[static_cast<size_t>(c)];
    }
    mean /= static_cast<double>(C);
    double var = 0;
    for (int64_t c = 0; c < C; ++c) var += (v[static_cast<size_t>(c)] - mean) * (v[static_cast<size_t>(c)] - mean);
    var /= static_cast<double>(C);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t c = 0; c < C; ++c)
      yr[c] = static_cast<float>((v[static_cast<size_t>(c)] - mean) * inv * gamma[c] + beta[c]);
  }
}

}  // namespace sam3::kernels::ref
