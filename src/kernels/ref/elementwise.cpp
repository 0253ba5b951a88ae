// sam3.cpp — reference element-wise kernels: exact-erf GELU, ReLU, add.
// ref: torch.nn.GELU (approximate='none'), torch.nn.ReLU
#include <cmath>

#include "kernels/ref.h"

namespace sam3::kernels::ref {

void gelu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    double v = x[i];
    x[i] = static_cast<float>(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))));
  }
}

void relu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void add(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

}  // namespace sam3::kernels::ref
