// sam3.cpp — the one place OpenBLAS is called. OpenBLAS's thread count is its own global setting: we set it
// from the caller's n_threads right before each call. Inside an OpenMP parallel region (attention tiles) the
// OpenMP build of OpenBLAS runs single-threaded, and we leave its setting alone there.
#include <cblas.h>
#include <omp.h>

#include "kernels/cpu.h"

namespace sam3::kernels::cpu {

void sgemm(bool a_trans, bool b_trans, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float* C, int64_t ldc, bool accumulate, int n_threads) {
  if (M <= 0 || N <= 0) return;
  if (!omp_in_parallel()) openblas_set_num_threads(n_threads < 1 ? 1 : n_threads);
  cblas_sgemm(CblasRowMajor, a_trans ? CblasTrans : CblasNoTrans, b_trans ? CblasTrans : CblasNoTrans, static_cast<blasint>(M),
              static_cast<blasint>(N), static_cast<blasint>(K), 1.0f, A, static_cast<blasint>(lda), B,
              static_cast<blasint>(ldb), accumulate ? 1.0f : 0.0f, C, static_cast<blasint>(ldc));
}

}  // namespace sam3::kernels::cpu
