// sam3.cpp — reference linear: triple loop, double accumulation.
#include "kernels/ref.h"

namespace sam3::kernels::ref {

void linear(const float* x, const float* w, const float* b, float* y, int64_t M, int64_t N, int64_t K) {
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      double s = b ? b[n] : 0.0;
      for (int64_t k = 0; k < K; ++k) s += static_cast<double>(x[m * K + k]) * w[n * K + k];
      y[m * N + n] = static_cast<float>(s);
    }
  }
}

void linear_add(const float* x, const float* w, const float* addend, float* y, int64_t M, int64_t N, int64_t K) {
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      double s = addend[m * N + n];  // read before y[m, n] is written: addend may be y
      for (int64_t k = 0; k < K; ++k) s += static_cast<double>(x[m * K + k]) * w[n * K + k];
      y[m * N + n] = static_cast<float>(s);
    }
  }
}

}  // namespace sam3::kernels::ref
