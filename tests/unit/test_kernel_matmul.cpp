// Unit tests: the CPU matmul (OpenBLAS sgemm) against the reference, and ops::matmul's checks.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"
#include "test_kernel_common.h"

using namespace sam3;
using namespace sam3::test;

namespace {

// Tolerance per output: dot_tol(K, Σ_k |a_mk·b_kn|) (see test_kernel_common.h), magnitudes from the reference run
// on absolute values.
void check_matmul(int64_t M, int64_t N, int64_t K, int threads, uint32_t seed) {
  std::mt19937 g(seed);
  auto a = random_vec(g, M * K), b = random_vec(g, K * N);
  std::vector<float> got(static_cast<size_t>(M * N), NAN), want(got.size()), mag(got.size());
  kernels::cpu::matmul(a.data(), b.data(), got.data(), M, N, K, threads);
  kernels::ref::matmul(a.data(), b.data(), want.data(), M, N, K);
  auto aa = abs_vec(a), ab = abs_vec(b);
  kernels::ref::matmul(aa.data(), ab.data(), mag.data(), M, N, K);
  std::vector<double> tol(mag.size());
  for (size_t i = 0; i < mag.size(); ++i) tol[i] = dot_tol(K, mag[i]);
  EXPECT_TRUE(within(got, want, tol, "matmul M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" +
                                         std::to_string(K) + " threads=" + std::to_string(threads)));
}

}  // namespace

TEST(KernelMatmul, Shapes) {
  uint32_t seed = 1;
  for (int64_t M : {1, 5, 20, 64})
    for (int64_t N : {1, 7, 33, 1296})
      for (int64_t K : {1, 3, 64, 257}) {
        const int threads = 1 + static_cast<int>(seed % 2);
        check_matmul(M, N, K, threads, seed++);
      }
}

TEST(KernelMatmul, MaskEinsumShape) { check_matmul(200, 5184, 256, 2, 99); }

TEST(KernelMatmul, OpChecks) {
  Tensor a = Tensor::zeros({1, 4, 3}), b = Tensor::zeros({3, 5}), y = Tensor::zeros({1, 4, 5});
  EXPECT_NO_THROW(ops::matmul(a, b, y, RunContext{1}));
  Tensor bad_b = Tensor::zeros({4, 5}), bad_y = Tensor::zeros({4, 6});
  EXPECT_THROW(ops::matmul(a, bad_b, y, RunContext{1}), Error);
  EXPECT_THROW(ops::matmul(a, b, bad_y, RunContext{1}), Error);
}
