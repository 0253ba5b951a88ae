// Unit tests: the vectorised erf / exp (kernels/simd_math.h) on dense grids including the tails, and the CPU
// GELU kernel against the reference (double-precision std::erf).
#include <gtest/gtest.h>

// GCC 12's AVX-512 intrinsics trip -Wmaybe-uninitialized at every inlined use (GCC bug 105593, a false positive;
// src/kernels/cpu/gelu.cpp says more).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cmath>
#include <cstring>

#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/cpu/onednn_matmul.h"
#include "kernels/ref.h"
#include "kernels/simd_math.h"
#include "test_kernel_common.h"

using namespace sam3;
using namespace sam3::test;

namespace {

// Evaluates f8 (8 lanes at a time, vector version when available) over xs.
template <class F8, class F1>
std::vector<float> eval(const std::vector<float>& xs, F8&& f8, F1&& f1) {
  std::vector<float> out(xs.size());
  size_t i = 0;
#ifdef SAM3_AVX2
  for (; i + 8 <= xs.size(); i += 8) _mm256_storeu_ps(out.data() + i, f8(_mm256_loadu_ps(xs.data() + i)));
#endif
  for (; i < xs.size(); ++i) out[i] = f1(xs[i]);
  return out;
}

#if defined(__x86_64__)
// erf_ps16 over xs (16 at a time; a whole number of vectors of xs).
SAM3_AVX512 std::vector<float> erf16(const std::vector<float>& xs) {
  std::vector<float> out(xs.size());
  for (size_t i = 0; i + 16 <= xs.size(); i += 16)
    _mm512_storeu_ps(out.data() + i, kernels::simd::erf_ps16(_mm512_loadu_ps(xs.data() + i)));
  return out;
}
#endif

std::vector<float> grid(double lo, double hi, double step) {
  std::vector<float> xs;
  for (double x = lo; x <= hi; x += step) xs.push_back(static_cast<float>(x));
  return xs;
}

}  // namespace

// Tolerance: the approximation's measured max error is 5.9e-8 (≈1 ulp near 1) with libm exp; our exp adds ≤ 2 ulp
// relative on a value ≤ 0.4, i.e. ≤ 1e-7 more. 1.5e-7 absolute bounds both with margin, and is ~1.3 ulp of 1.
TEST(KernelGelu, ErfDenseGrid) {
  auto xs = grid(-10.0, 10.0, 1.0 / 4096);  // 81921 points incl. the split at ±0.9277 and the saturated tails
  for (float x : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-45f, 0.927734375f, -0.927734375f, 0.92773443f, 3.9f, 1e30f,
                  -1e30f, INFINITY, -INFINITY})
    xs.push_back(x);
  std::vector<float> want(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) want[i] = static_cast<float>(std::erf(static_cast<double>(xs[i])));
#ifdef SAM3_AVX2
  EXPECT_TRUE(within(eval(xs, kernels::simd::erf_ps, kernels::simd::erf_scalar), want, {1.5e-7}, "erf_ps"));
#endif
  std::vector<float> scalar(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) scalar[i] = kernels::simd::erf_scalar(xs[i]);
  EXPECT_TRUE(within(scalar, want, {1.5e-7}, "erf_scalar"));
  // Odd symmetry exactly, and NaN propagates.
  for (float x : {0.3f, 1.7f, 5.0f}) EXPECT_EQ(kernels::simd::erf_scalar(-x), -kernels::simd::erf_scalar(x));
  EXPECT_TRUE(std::isnan(kernels::simd::erf_scalar(NAN)));
}

// Tolerance: 3 ulp relative (Cephes polynomial ≈ 1-2 ulp, plus the 2ⁿ scaling is exact); below -87.34 exactly 0.
TEST(KernelGelu, ExpDenseGrid) {
  auto xs = grid(-87.3, 88.3, 1.0 / 512);
  std::vector<float> want(xs.size());
  std::vector<double> tol(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const double e = std::exp(static_cast<double>(xs[i]));
    want[i] = static_cast<float>(e);
    tol[i] = 3 * kEps * e;
  }
#ifdef SAM3_AVX2
  EXPECT_TRUE(within(eval(xs, kernels::simd::exp_ps, kernels::simd::exp_scalar), want, tol, "exp_ps"));
  {
    std::vector<float> xs2 = {-INFINITY, -1000.0f, -87.5f, NAN, 0.0f, -0.0f, 1.0f, 2.0f};
    auto r = eval(xs2, kernels::simd::exp_ps, kernels::simd::exp_scalar);
    EXPECT_EQ(r[0], 0.0f);
    EXPECT_EQ(r[1], 0.0f);
    EXPECT_EQ(r[2], 0.0f);
    EXPECT_TRUE(std::isnan(r[3]));
    EXPECT_EQ(r[4], 1.0f);
    EXPECT_EQ(r[5], 1.0f);
  }
#endif
  std::vector<float> scalar(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) scalar[i] = kernels::simd::exp_scalar(xs[i]);
  EXPECT_TRUE(within(scalar, want, tol, "exp_scalar"));
  EXPECT_EQ(kernels::simd::exp_scalar(-INFINITY), 0.0f);
}

// Tolerance: 2 eps relative (polynomial 0.66 eps measured in float; r = x - round(x) and the 2ⁿ scaling are exact).
TEST(KernelGelu, Exp2SoftmaxDenseGrid) {
  auto xs = grid(-126.0, 20.0, 1.0 / 1024);
  std::vector<float> want(xs.size());
  std::vector<double> tol(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const double e = std::exp2(static_cast<double>(xs[i]));
    want[i] = static_cast<float>(e);
    tol[i] = 2 * kEps * e;
  }
#ifdef SAM3_AVX2
  EXPECT_TRUE(within(eval(xs, kernels::simd::exp2_softmax_ps, kernels::simd::exp2_softmax_scalar), want, tol,
                     "exp2_softmax_ps"));
  {
    std::vector<float> xs2 = {-INFINITY, -1000.0f, -127.5f, NAN, 0.0f, -0.0f, 1.0f, -1.0f};
    auto r = eval(xs2, kernels::simd::exp2_softmax_ps, kernels::simd::exp2_softmax_scalar);
    EXPECT_EQ(r[0], 0.0f);
    EXPECT_EQ(r[1], 0.0f);
    EXPECT_EQ(r[2], 0.0f);
    EXPECT_TRUE(std::isnan(r[3]));
    EXPECT_EQ(r[4], 1.0f);
    EXPECT_EQ(r[5], 1.0f);
    EXPECT_EQ(r[6], 2.0f);
    EXPECT_EQ(r[7], 0.5f);
  }
#endif
  std::vector<float> scalar(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) scalar[i] = kernels::simd::exp2_softmax_scalar(xs[i]);
  EXPECT_TRUE(within(scalar, want, tol, "exp2_softmax_scalar"));
  EXPECT_EQ(kernels::simd::exp2_softmax_scalar(-INFINITY), 0.0f);
  EXPECT_TRUE(std::isnan(kernels::simd::exp2_softmax_scalar(NAN)));
}

// GELU(x) = x/2·(1+erf(x/√2)). Tolerance: the erf error (1.5e-7) times |x|/2, plus 3 ulp of the result for the
// scaling by 1/√2, the products and the final rounding.
TEST(KernelGelu, DenseGridAndRandom) {
  auto xs = grid(-12.0, 12.0, 1.0 / 1024);
  std::mt19937 g(7);
  auto r = random_vec(g, 100003, -6.0f, 6.0f);  // prime length: exercises the scalar tail and chunking
  xs.insert(xs.end(), r.begin(), r.end());
  for (int threads : {1, 2}) {
    std::vector<float> got = xs, want = xs;
    kernels::cpu::gelu(got.data(), static_cast<int64_t>(got.size()), threads);
    kernels::ref::gelu(want.data(), static_cast<int64_t>(want.size()));
    std::vector<double> tol(xs.size());
    for (size_t i = 0; i < xs.size(); ++i) tol[i] = 0.5 * std::fabs(xs[i]) * 1.5e-7 + 3 * kEps * std::fabs(want[i]) + 1e-38;
    EXPECT_TRUE(within(got, want, tol, "gelu threads=" + std::to_string(threads)));
  }
}

TEST(KernelGelu, OpShortAndEmpty) {
  for (int64_t n : {0, 1, 7, 8, 9, 17}) {
    Tensor t = Tensor::empty({n});
    for (int64_t i = 0; i < n; ++i) t.f32()[i] = static_cast<float>(i) - 3.0f;
    std::vector<float> want(t.f32(), t.f32() + n);
    kernels::ref::gelu(want.data(), n);
    ops::gelu_inplace(t, RunContext{2});
    std::vector<double> tol(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const auto u = static_cast<size_t>(i);
      tol[u] = 0.5 * std::fabs(static_cast<double>(i) - 3.0) * 1.5e-7 + 3 * kEps * std::fabs(want[u]) + 1e-38;
    }
    if (n) {
      EXPECT_TRUE(within(std::vector<float>(t.f32(), t.f32() + n), want, tol, "ops::gelu_inplace"));
    }
  }
}

// Where oneDNN's ISA is AVX-512 the GELU kernel runs 16 lanes (erf_ps16); it must give the AVX2 kernel's floats (the
// same operations lane by lane): erf_ps16 against erf_ps, and the kernel against the AVX2 formula, bit for bit. The
// `_isa_avx2` copy of this test runs the AVX2 kernel here (and skips this).
TEST(KernelGelu, Avx512MatchesAvx2) {
#if defined(SAM3_AVX2) && defined(__x86_64__)
  if (!kernels::cpu::onednn_isa_avx512()) GTEST_SKIP() << "no AVX-512 here (or capped by ONEDNN_MAX_CPU_ISA)";
  auto xs = grid(-12.0, 12.0, 1.0 / 2048);
  for (float x : {0.0f, -0.0f, 1e-30f, -1e-30f, 0.927734375f, -0.927734375f, 0.92773443f, 1e30f, -1e30f, INFINITY,
                  -INFINITY, NAN})
    xs.push_back(x);
  xs.resize(xs.size() / 16 * 16 + 16, 0.5f);
  const std::vector<float> e8 = eval(xs, kernels::simd::erf_ps, kernels::simd::erf_scalar), e16 = erf16(xs);
  int64_t differ = 0;
  for (size_t i = 0; i < xs.size(); ++i) differ += std::memcmp(&e8[i], &e16[i], sizeof(float)) != 0;
  EXPECT_EQ(differ, 0) << "erf_ps16 lanes that differ from erf_ps";
  std::vector<float> got = xs;
  kernels::cpu::gelu(got.data(), static_cast<int64_t>(got.size()), 2);
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f), k = _mm256_set1_ps(0.70710678118654752f);
  const std::vector<float> want = eval(
      xs,
      [&](__m256 v) {
        return _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, kernels::simd::erf_ps(_mm256_mul_ps(v, k))));
      },
      [](float v) { return v; });  // unused: xs is a whole number of vectors
  differ = 0;
  for (size_t i = 0; i < xs.size(); ++i) differ += std::memcmp(&got[i], &want[i], sizeof(float)) != 0;
  EXPECT_EQ(differ, 0) << "GELU values that differ from the AVX2 kernel's";
#else
  GTEST_SKIP() << "not an AVX2 x86-64 build";
#endif
}
