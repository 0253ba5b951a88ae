// Unit tests: the CPU linear kernel (OpenBLAS sgemm + bias) against the reference, and ops::linear's checks.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"
#include "test_kernel_common.h"

using namespace sam3;
using namespace sam3::test;

namespace {

// Runs cpu::linear and ref::linear on random data; the tolerance per output is dot_tol(K+1, Σ|x||w| + |b|),
// computed by running the reference on absolute values.
void check_linear(int64_t M, int64_t N, int64_t K, bool bias, int threads, uint32_t seed) {
  std::mt19937 g(seed);
  auto x = random_vec(g, M * K), w = random_vec(g, N * K), b = random_vec(g, N);
  std::vector<float> got(static_cast<size_t>(M * N), NAN), want(got.size()), mag(got.size());
  kernels::cpu::linear(x.data(), w.data(), bias ? b.data() : nullptr, got.data(), M, N, K, threads);
  kernels::ref::linear(x.data(), w.data(), bias ? b.data() : nullptr, want.data(), M, N, K);
  auto ax = abs_vec(x), aw = abs_vec(w), ab = abs_vec(b);
  kernels::ref::linear(ax.data(), aw.data(), bias ? ab.data() : nullptr, mag.data(), M, N, K);
  std::vector<double> tol(mag.size());
  for (size_t i = 0; i < mag.size(); ++i) tol[i] = dot_tol(K + 1, mag[i]);
  EXPECT_TRUE(within(got, want, tol, "linear M=" + std::to_string(M) + " N=" + std::to_string(N) +
                                         " K=" + std::to_string(K) + (bias ? " +b" : "") +
                                         " threads=" + std::to_string(threads)));
}

}  // namespace

TEST(KernelLinear, AwkwardShapes) {
  uint32_t seed = 1;
  for (int64_t M : {1, 2, 7, 31, 64, 129})
    for (int64_t N : {1, 3, 8, 17, 96})
      for (int64_t K : {1, 5, 16, 67, 256})
        for (bool bias : {false, true}) {
          check_linear(M, N, K, bias, static_cast<int>(seed % 2) + 1, seed);
          ++seed;
        }
}

TEST(KernelLinear, LargerShapes) {
  check_linear(577, 1024, 256, true, 2, 11);
  check_linear(1000, 67, 1031, false, 2, 12);
  check_linear(33, 4096, 1024, true, 1, 13);
}

TEST(KernelLinear, OpLeadingDimsAndChecks) {
  std::mt19937 g(3);
  auto xv = random_vec(g, 2 * 5 * 7), wv = random_vec(g, 3 * 7), bv = random_vec(g, 3);
  Tensor x = Tensor::borrow(xv.data(), {2, 5, 7}, DType::F32), w = Tensor::borrow(wv.data(), {3, 7}, DType::F32);
  Tensor b = Tensor::borrow(bv.data(), {3}, DType::F32);
  Tensor y = Tensor::empty({2, 5, 3});
  ops::linear(x, w, &b, y, RunContext{2});
  std::vector<float> want(30), got(y.f32(), y.f32() + 30);
  kernels::ref::linear(xv.data(), wv.data(), bv.data(), want.data(), 10, 3, 7);
  EXPECT_TRUE(within(got, want, {dot_tol(8, 8.0)}, "ops::linear"));
  Tensor undefined;
  ops::linear(x, w, &undefined, y, RunContext{1});  // an undefined bias means none
  kernels::ref::linear(xv.data(), wv.data(), nullptr, want.data(), 10, 3, 7);
  EXPECT_TRUE(within(std::vector<float>(y.f32(), y.f32() + 30), want, {dot_tol(8, 8.0)}, "ops::linear no bias"));

  Tensor bad_w = Tensor::empty({3, 6}), bad_b = Tensor::empty({4}), bad_y = Tensor::empty({10, 4});
  EXPECT_THROW(ops::linear(x, bad_w, nullptr, y, RunContext{1}), Error);
  EXPECT_THROW(ops::linear(x, w, &bad_b, y, RunContext{1}), Error);
  EXPECT_THROW(ops::linear(x, w, nullptr, bad_y, RunContext{1}), Error);
  EXPECT_THROW(ops::linear(x, w, nullptr, x, RunContext{1}), Error);  // y overlaps x
  Tensor xi = Tensor::empty({2, 7}, DType::I32), y2 = Tensor::empty({2, 3});
  EXPECT_THROW(ops::linear(xi, w, nullptr, y2, RunContext{1}), Error);
}
