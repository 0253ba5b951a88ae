// Unit tests: the CPU linear_add kernel (addend copy + sgemm with beta = 1) against its reference twin, in place
// (addend = y) and not, and ops::linear_add's checks.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"
#include "test_kernel_common.h"

using namespace sam3;
using namespace sam3::test;

namespace {

// The tolerance per output is dot_tol(K+1, Σ|x||w| + |addend|), from the reference run on absolute values.
void check_linear_add(int64_t M, int64_t N, int64_t K, bool in_place, int threads, uint32_t seed) {
  std::mt19937 g(seed);
  auto x = random_vec(g, M * K), w = random_vec(g, N * K), add = random_vec(g, M * N, -3.0f, 3.0f);
  std::vector<float> got = in_place ? add : std::vector<float>(add.size(), NAN), want(add.size()), mag(add.size());
  kernels::cpu::linear_add(x.data(), w.data(), in_place ? got.data() : add.data(), got.data(), M, N, K, threads);
  kernels::ref::linear_add(x.data(), w.data(), add.data(), want.data(), M, N, K);
  auto ax = abs_vec(x), aw = abs_vec(w), aa = abs_vec(add);
  kernels::ref::linear_add(ax.data(), aw.data(), aa.data(), mag.data(), M, N, K);
  std::vector<double> tol(mag.size());
  for (size_t i = 0; i < mag.size(); ++i) tol[i] = dot_tol(K + 1, mag[i]);
  EXPECT_TRUE(within(got, want, tol, "linear_add M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" +
                                         std::to_string(K) + (in_place ? " in place" : "") +
                                         " threads=" + std::to_string(threads)));
}

}  // namespace

TEST(KernelLinearAdd, AwkwardShapes) {
  uint32_t seed = 1;
  for (int64_t M : {1, 2, 7, 64, 129})
    for (int64_t N : {1, 3, 17, 96})
      for (int64_t K : {1, 5, 67, 256})
        for (bool in_place : {false, true}) {
          check_linear_add(M, N, K, in_place, static_cast<int>(seed % 2) + 1, seed);
          ++seed;
        }
}

TEST(KernelLinearAdd, PickShapes) {
  check_linear_add(5184, 384, 256, false, 2, 21);  // the two-way transformer's fused image-token projections
  check_linear_add(5184, 256, 128, true, 2, 22);   // its out_proj accumulated onto the keys
}

TEST(KernelLinearAdd, RefWithZeroAddendIsLinear) {
  std::mt19937 g(4);
  auto x = random_vec(g, 9 * 13), w = random_vec(g, 5 * 13);
  std::vector<float> zero(45, 0.0f), a(45), b(45);
  kernels::ref::linear_add(x.data(), w.data(), zero.data(), a.data(), 9, 5, 13);
  kernels::ref::linear(x.data(), w.data(), nullptr, b.data(), 9, 5, 13);
  EXPECT_EQ(a, b);
}

TEST(KernelLinearAdd, OpLeadingDimsAndChecks) {
  std::mt19937 g(3);
  auto xv = random_vec(g, 2 * 5 * 7), wv = random_vec(g, 3 * 7), av = random_vec(g, 30);
  Tensor x = Tensor::borrow(xv.data(), {2, 5, 7}, DType::F32), w = Tensor::borrow(wv.data(), {3, 7}, DType::F32);
  Tensor a = Tensor::borrow(av.data(), {10, 3}, DType::F32);
  Tensor y = Tensor::empty({2, 5, 3});
  for (const RunContext& ctx : {RunContext{2}, [] {
                                  RunContext r{1};
                                  r.backend = Backend::Ref;
                                  return r;
                                }()}) {
    ops::linear_add(x, w, a, y, ctx);
    std::vector<float> want(30), got(y.f32(), y.f32() + 30);
    kernels::ref::linear_add(xv.data(), wv.data(), av.data(), want.data(), 10, 3, 7);
    EXPECT_TRUE(within(got, want, {dot_tol(8, 11.0)}, "ops::linear_add"));
  }
  ops::linear_add(x, w, y, y, RunContext{2});  // in place: y += x·wᵀ
  Tensor bad_w = Tensor::empty({3, 6}), bad_a = Tensor::empty({10, 4}), small_y = Tensor::empty({2, 4, 3});
  EXPECT_THROW(ops::linear_add(x, bad_w, a, y, RunContext{1}), Error);
  EXPECT_THROW(ops::linear_add(x, w, bad_a, y, RunContext{1}), Error);
  EXPECT_THROW(ops::linear_add(x, w, a, small_y, RunContext{1}), Error);
  EXPECT_THROW(ops::linear_add(x, w, x.reshape({10, 7}), y, RunContext{1}), Error);  // wrong size
  Tensor big = Tensor::empty({40});
  Tensor y_in_big = Tensor::borrow(big.f32() + 5, {10, 3}, DType::F32), a_in_big = Tensor::borrow(big.f32(), {10, 3}, DType::F32);
  EXPECT_THROW(ops::linear_add(x, w, a_in_big, y_in_big, RunContext{1}), Error);  // partial overlap
}
