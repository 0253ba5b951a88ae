// sam3.cpp — linear layer as one matrix product: oneDNN's where its ISA is AVX-512 (onednn_f32), else one
// OpenBLAS sgemm with y pre-filled with the bias rows and the product accumulated onto it (beta = 1), so the bias
// costs one streaming write instead of a second pass over y.
#include <cstring>

#include "core/parallel.h"
#include "kernels/cpu.h"
#include "kernels/cpu/onednn_matmul.h"

namespace sam3::kernels::cpu {

void linear(const float* x, const float* w, const float* b, float* y, int64_t M, int64_t N, int64_t K,
            int n_threads) {
  if (K > 0 && onednn_f32() && onednn_linear_f32(x, w, b, y, M, N, K, /*accumulate=*/false, n_threads)) return;
  if (b) {
    parallel_for(n_threads, M, [&](int64_t m) { std::memcpy(y + m * N, b, static_cast<size_t>(N) * sizeof(float)); });
  }
  if (K == 0) {
    if (!b) std::memset(y, 0, static_cast<size_t>(M * N) * sizeof(float));
    return;
  }
  sgemm(/*a_trans=*/false, /*b_trans=*/true, M, N, K, x, K, w, K, y, N, /*accumulate=*/b != nullptr, n_threads);
}

void linear_add(const float* x, const float* w, const float* addend, float* y, int64_t M, int64_t N, int64_t K,
                int n_threads) {
  if (addend != y)
    parallel_for(n_threads, M, [&](int64_t m) {
      std::memcpy(y + m * N, addend + m * N, static_cast<size_t>(N) * sizeof(float));
    });
  if (K > 0 && onednn_f32() && onednn_linear_f32(x, w, nullptr, y, M, N, K, /*accumulate=*/true, n_threads)) return;
  if (K > 0) sgemm(false, true, M, N, K, x, K, w, K, y, N, /*accumulate=*/true, n_threads);
}

}  // namespace sam3::kernels::cpu
