// Unit tests: the CPU LayerNorm kernel against the reference (double), and ops::layer_norm's checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"
#include "test_kernel_common.h"

using namespace sam3;
using namespace sam3::test;

namespace {

// Tolerance per element. The normalised value z = (x-μ)/σ carries relative error from the f32 sums of μ and of
// the squared deviations (each ≈ sqrt(C)·eps by the random-walk argument, times |x|/σ for μ), so
// |Δz| ≲ 2·sqrt(C)·eps·(|z| + max|x-μ|/σ); the affine step adds 2 ulp of |z·γ| + |β|. We allow 4× for margin.
std::vector<double> ln_tol(const std::vector<float>& x, const std::vector<float>& gm, const std::vector<float>& bt,
                           int64_t rows, int64_t C) {
  std::vector<double> tol(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0, maxdev = 0;
    for (int64_t c = 0; c < C; ++c) mean += x[static_cast<size_t>(r * C + c)];
    mean /= static_cast<double>(C);
    for (int64_t c = 0; c < C; ++c) {
      const double d = x[static_cast<size_t>(r * C + c)] - mean;
      var += d * d;
      maxdev = std::max(maxdev, std::fabs(d) + std::fabs(mean));
    }
    const double sd = std::sqrt(var / static_cast<double>(C) + 1e-6);
    for (int64_t c = 0; c < C; ++c) {
      const auto i = static_cast<size_t>(r * C + c);
      const double z = (x[i] - mean) / sd;
      tol[i] = 4 * (2 * std::sqrt(static_cast<double>(C)) * kEps * (std::fabs(z) + maxdev / sd) * gm[static_cast<size_t>(c)] +
                    2 * kEps * (std::fabs(z * gm[static_cast<size_t>(c)]) + std::fabs(bt[static_cast<size_t>(c)])));
    }
  }
  return tol;
}

void check_ln(int64_t rows, int64_t C, float offset, int threads, uint32_t seed) {
  std::mt19937 g(seed);
  auto x = random_vec(g, rows * C, offset - 2.0f, offset + 2.0f), gm = random_vec(g, C, 0.5f, 1.5f),
       bt = random_vec(g, C);
  std::vector<float> got(x.size(), NAN), want(x.size());
  kernels::cpu::layer_norm(x.data(), gm.data(), bt.data(), 1e-6f, got.data(), rows, C, threads);
  kernels::ref::layer_norm(x.data(), gm.data(), bt.data(), 1e-6f, want.data(), rows, C);
  const std::vector<double> tol = ln_tol(x, gm, bt, rows, C);
  EXPECT_TRUE(within(got, want, tol, "layer_norm rows=" + std::to_string(rows) + " C=" + std::to_string(C) +
                                         " offset=" + std::to_string(offset)));
}

}  // namespace

TEST(KernelLayerNorm, AwkwardShapes) {
  uint32_t seed = 1;
  for (int64_t rows : {1, 3, 17})
    for (int64_t C : {1, 2, 7, 8, 9, 15, 16, 17, 31, 64, 97, 256, 1024, 1031})
      check_ln(rows, C, 0.0f, static_cast<int>(seed % 2) + 1, seed), ++seed;
}

TEST(KernelLayerNorm, OffsetMeanAndManyRows) {
  check_ln(5184, 256, 0.0f, 2, 5);
  check_ln(37, 1024, 50.0f, 2, 6);  // large mean: the two-pass variance must not cancel
}

TEST(KernelLayerNorm, OpInPlaceAndChecks) {
  std::mt19937 g(9);
  auto xv = random_vec(g, 6 * 10), gv = random_vec(g, 10), bv = random_vec(g, 10);
  std::vector<float> want(60);
  kernels::ref::layer_norm(xv.data(), gv.data(), bv.data(), 1e-5f, want.data(), 6, 10);
  Tensor x = Tensor::borrow(xv.data(), {2, 3, 10}, DType::F32);
  Tensor gm = Tensor::borrow(gv.data(), {10}, DType::F32), bt = Tensor::borrow(bv.data(), {10}, DType::F32);
  ops::layer_norm(x, gm, bt, 1e-5f, x, RunContext{2});  // in place
  EXPECT_TRUE(within(xv, want, {1e-5}, "ops::layer_norm in place"));
  Tensor bad = Tensor::empty({9}), y = Tensor::empty({2, 3, 9});
  EXPECT_THROW(ops::layer_norm(x, bad, bt, 1e-5f, x, RunContext{1}), Error);
  EXPECT_THROW(ops::layer_norm(x, gm, bad, 1e-5f, x, RunContext{1}), Error);
  EXPECT_THROW(ops::layer_norm(x, gm, bt, 1e-5f, y, RunContext{1}), Error);
}

// LayerNorm(x + bias): the CPU kernel (row + bias written to y, then normalised) against its reference twin, in place
// and not; the same tolerance as above applied to the biased rows.
TEST(KernelLayerNorm, BiasLayerNorm) {
  uint32_t seed = 40;
  for (int64_t rows : {1, 3, 5184})
    for (int64_t C : {1, 7, 16, 17, 256}) {
      std::mt19937 g(seed++);
      auto x = random_vec(g, rows * C, -2.0f, 2.0f), bias = random_vec(g, C, -3.0f, 3.0f),
           gm = random_vec(g, C, 0.5f, 1.5f), bt = random_vec(g, C);
      std::vector<float> want(x.size()), got(x.size(), NAN), inplace = x;
      kernels::ref::bias_layer_norm(x.data(), bias.data(), gm.data(), bt.data(), 1e-5f, want.data(), rows, C);
      kernels::cpu::bias_layer_norm(x.data(), bias.data(), gm.data(), bt.data(), 1e-5f, got.data(), rows, C, 2);
      kernels::cpu::bias_layer_norm(inplace.data(), bias.data(), gm.data(), bt.data(), 1e-5f, inplace.data(), rows, C, 1);
      std::vector<float> xb(x.size());  // the biased rows (one f32 addition, as the kernel): LayerNorm's tolerance
      for (size_t i = 0; i < x.size(); ++i) xb[i] = x[i] + bias[i % static_cast<size_t>(C)];
      std::vector<double> tol = ln_tol(xb, gm, bt, rows, C);
      for (size_t i = 0; i < tol.size(); ++i) tol[i] += 2 * kEps * std::fabs(want[i]);  // the rounding of x + bias
      const std::string what = "bias_layer_norm rows=" + std::to_string(rows) + " C=" + std::to_string(C);
      EXPECT_TRUE(within(got, want, tol, what));
      EXPECT_TRUE(within(inplace, want, tol, what + " in place"));
    }
}

TEST(KernelLayerNorm, BiasLayerNormOpChecks) {
  std::mt19937 g(10);
  auto xv = random_vec(g, 6 * 10), bv = random_vec(g, 10), gv = random_vec(g, 10), tv = random_vec(g, 10);
  Tensor x = Tensor::borrow(xv.data(), {2, 3, 10}, DType::F32), b = Tensor::borrow(bv.data(), {10}, DType::F32);
  Tensor gm = Tensor::borrow(gv.data(), {10}, DType::F32), bt = Tensor::borrow(tv.data(), {10}, DType::F32);
  std::vector<float> want(60);
  kernels::ref::bias_layer_norm(xv.data(), bv.data(), gv.data(), tv.data(), 1e-5f, want.data(), 6, 10);
  ops::bias_layer_norm(x, b, gm, bt, 1e-5f, x, RunContext{2});
  EXPECT_TRUE(within(xv, want, {1e-5}, "ops::bias_layer_norm in place"));
  Tensor bad = Tensor::empty({9}), y = Tensor::empty({2, 3, 9});
  EXPECT_THROW(ops::bias_layer_norm(x, bad, gm, bt, 1e-5f, x, RunContext{1}), Error);
  EXPECT_THROW(ops::bias_layer_norm(x, b, bad, bt, 1e-5f, x, RunContext{1}), Error);
  EXPECT_THROW(ops::bias_layer_norm(x, b, gm, bad, 1e-5f, x, RunContext{1}), Error);
  EXPECT_THROW(ops::bias_layer_norm(x, b, gm, bt, 1e-5f, y, RunContext{1}), Error);
}
