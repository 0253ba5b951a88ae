// sam3.cpp — reference reduced-precision linear layers: the rounding of kernels/quantize.h, then exact sums
// (double for bf16 products, which are exact in double; int64 for int8).
#include <vector>

#include "kernels/quantize.h"
#include "kernels/ref.h"

namespace sam3::kernels::ref {

void linear_bf16(const float* x, const uint16_t* w, const float* b, float* y, int64_t M, int64_t N, int64_t K) {
  std::vector<float> xr(static_cast<size_t>(K));
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t k = 0; k < K; ++k) xr[k] = round_bf16(x[m * K + k]);
    for (int64_t n = 0; n < N; ++n) {
      double s = b ? b[n] : 0.0;
      for (int64_t k = 0; k < K; ++k) s += static_cast<double>(xr[k]) * bf16_value(w[n * K + k]);
      y[m * N + n] = static_cast<float>(s);
    }
  }
}

void linear_int8(const float* x, const int8_t* w, const float* w_scale, const int32_t* colsum, int levels,
                 const float* b, float* y, int64_t M, int64_t N, int64_t K) {
  std::vector<uint8_t> q(static_cast<size_t>(K));
  std::vector<int32_t> acc(static_cast<size_t>(N));
  for (int64_t m = 0; m < M; ++m) {
    float sa;
    int32_t za;
    quantize_row_u8(x + m * K, K, levels, q.data(), &sa, &za);
    for (int64_t n = 0; n < N; ++n) {
      int64_t s = 0;
      for (int64_t k = 0; k < K; ++k) s += static_cast<int64_t>(q[k]) * w[n * K + k];
      acc[n] = static_cast<int32_t>(s);
    }
    dequantize_row(acc.data(), N, sa, za, w_scale, colsum, b, y + m * N);
  }
}

}  // namespace sam3::kernels::ref
