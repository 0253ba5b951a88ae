// Unit tests: the CPU GroupNorm (+ReLU) kernel against the reference, and ops::group_norm's checks.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"
#include "test_kernel_common.h"

using namespace sam3;
using namespace sam3::test;

namespace {

// The CPU kernel computes exact (double) statistics, then y = x·a + b in f32 with a = rstd·γ, b = β − μ·a.
// Each of a, b, the product and the sum rounds by ≤ eps/2 of its magnitude, so |err| ≤ 2·eps·(|x·a| + |b|);
// we allow 4·eps·(|x·a| + |b|) (+ a denormal floor). The reference uses the same exact statistics in double.
void check_group_norm(int64_t c, int64_t h, int64_t w, int64_t groups, bool relu, float offset, int threads,
                      uint32_t seed) {
  std::mt19937 g(seed);
  const int64_t hw = h * w;
  auto x = random_vec(g, c * hw, offset - 2.0f, offset + 3.0f);
  auto gamma = random_vec(g, c, 0.5f, 1.5f), beta = random_vec(g, c, -0.5f, 0.5f);
  std::vector<float> got(x.size(), NAN), want(x.size());
  kernels::cpu::group_norm(x.data(), c, hw, groups, gamma.data(), beta.data(), 1e-5f, relu, got.data(), threads);
  kernels::ref::group_norm(x.data(), c, hw, groups, gamma.data(), beta.data(), 1e-5f, relu, want.data());
  std::vector<double> tol(x.size());
  const int64_t cg = c / groups;
  for (int64_t gi = 0; gi < groups; ++gi) {
    double s = 0, q = 0;
    const int64_t n = cg * hw;
    for (int64_t i = 0; i < n; ++i) s += x[static_cast<size_t>(gi * n + i)];
    const double mean = s / n;
    for (int64_t i = 0; i < n; ++i) q += std::pow(x[static_cast<size_t>(gi * n + i)] - mean, 2);
    const double rstd = 1.0 / std::sqrt(q / n + 1e-5);
    for (int64_t ch = gi * cg; ch < (gi + 1) * cg; ++ch) {
      const double a = rstd * gamma[static_cast<size_t>(ch)], b = beta[static_cast<size_t>(ch)] - mean * a;
      for (int64_t i = 0; i < hw; ++i) {
        const size_t k = static_cast<size_t>(ch * hw + i);
        tol[k] = 4 * kEps * (std::fabs(x[k] * a) + std::fabs(b)) + 1e-30;
      }
    }
  }
  EXPECT_TRUE(within(got, want, tol, "group_norm c=" + std::to_string(c) + " hw=" + std::to_string(hw) + " groups=" +
                                         std::to_string(groups) + (relu ? " relu" : "") + " offset=" +
                                         std::to_string(offset) + " threads=" + std::to_string(threads)));
}

}  // namespace

TEST(KernelGroupNorm, Shapes) {
  uint32_t seed = 1;
  for (int64_t c : {8, 16, 64})
    for (int64_t hw : {1, 7, 36})
      for (int64_t groups : {1, 8})
        for (bool relu : {false, true}) {
          const int threads = 1 + static_cast<int>(seed % 2);
          check_group_norm(c, hw, hw == 7 ? 3 : hw, groups, relu, 0.0f, threads, seed++);
        }
}

TEST(KernelGroupNorm, LargeOffsetAndSize) {
  check_group_norm(64, 72, 72, 8, true, 100.0f, 2, 7);  // mean ≫ std: the one-pass variance must stay accurate
  check_group_norm(256, 40, 40, 8, false, -3.0f, 2, 8);
}

TEST(KernelGroupNorm, OpChecks) {
  Tensor x = Tensor::zeros({1, 16, 4, 4}), y = Tensor::zeros({1, 16, 4, 4});
  Tensor g = Tensor::zeros({16}), b = Tensor::zeros({16}), bad = Tensor::zeros({8});
  EXPECT_NO_THROW(ops::group_norm(x, 8, g, b, 1e-5f, true, y, RunContext{1}));
  EXPECT_THROW(ops::group_norm(x, 3, g, b, 1e-5f, true, y, RunContext{1}), Error);
  EXPECT_THROW(ops::group_norm(x, 8, bad, b, 1e-5f, true, y, RunContext{1}), Error);
  Tensor y2 = Tensor::zeros({16, 4, 3});
  EXPECT_THROW(ops::group_norm(x, 8, g, b, 1e-5f, true, y2, RunContext{1}), Error);
}
