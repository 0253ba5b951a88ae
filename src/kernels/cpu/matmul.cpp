// sam3.cpp — matmul y[M,N] = a[M,K] · b[K,N] through the shared OpenBLAS sgemm wrapper (kernels/cpu.h).
#include "kernels/cpu.h"
#include "kernels/cpu.h"

namespace sam3::kernels::cpu {

void matmul(const float* a, const float* b, float* y, int64_t M, int64_t N, int64_t K, int n_threads) {
  sgemm(/*a_trans=*/false, /*b_trans=*/false, M, N, K, a, K, b, N, y, N, /*accumulate=*/false, n_threads);
}

}  // namespace sam3::kernels::cpu
