// sam3.cpp — reference matmul: triple loop, double accumulation.
#include "kernels/ref.h"

namespace sam3::kernels::ref {

void matmul(const float* a, const float* b, float* y, int64_t M, int64_t N, int64_t K) {
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += static_cast<double>(a[m * K + k]) * b[k * N + n];
      y[m * N + n] = static_cast<float>(s);
    }
  }
}

}  // namespace sam3::kernels::ref
