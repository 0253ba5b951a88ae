// Unit tests: the reduced-precision linear layers (ops::pack_weight + ops::linear) on the CPU back end against their
// reference twins, and against f32 within the error bounds of the rounding (kernels/quantize.h). Run as they are
// and again with ONEDNN_MAX_CPU_ISA=AVX2 (tests/CMakeLists.txt), which on a CPU with AMX/AVX512-BF16 takes the bf16
// fallback and the 7-bit int8 activations.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/packed_weight.h"
#include "kernels/quantize.h"
#include "kernels/ref.h"
#include "test_kernel_common.h"

using namespace sam3;
using namespace sam3::test;

namespace {

struct Case {
  int64_t M, N, K;
  bool bias;
};

Tensor make(const std::vector<float>& v, const Shape& s) {
  Tensor t = Tensor::empty(s);
  std::copy(v.begin(), v.end(), t.f32());
  return t;
}

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.f32(), t.f32() + t.numel()); }

// y = ops::linear(x, packed w) on the given back end.
std::vector<float> run(const Tensor& x, const ops::PackedWeight& w, const Tensor* b, Backend be, int threads) {
  Tensor y = Tensor::empty({x.size(0), w.n});
  RunContext ctx;
  ctx.n_threads = threads;
  ctx.backend = be;
  ops::linear(x, w, b, y, ctx);
  return values(y);
}

// Σ_k |x[m,k]|·|w[n,k]| + |b[n]| per output: the scale of every error bound below.
std::vector<float> magnitudes(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
                              const Case& c) {
  auto ax = abs_vec(x), aw = abs_vec(w), ab = abs_vec(b);
  std::vector<float> mag(static_cast<size_t>(c.M * c.N));
  kernels::ref::linear(ax.data(), aw.data(), c.bias ? ab.data() : nullptr, mag.data(), c.M, c.N, c.K);
  return mag;
}

// "Equal": a tolerance of the smallest double, so that equal elements pass (0 <= tol) and the report names the
// worst element by its ratio to it.
constexpr double kExact = std::numeric_limits<double>::denorm_min();

const Case kCases[] = {{1, 1, 1, false}, {3, 17, 5, true}, {31, 64, 67, true}, {129, 96, 256, false},
                       {200, 256, 256, true}, {64, 40, 1024, true}};

}  // namespace

TEST(LinearLowp, Bf16MatchesReferenceAndF32) {
  uint32_t seed = 11;
  for (const Case& c : kCases) {
    std::mt19937 g(seed++);
    auto x = random_vec(g, c.M * c.K, -3, 3), w = random_vec(g, c.N * c.K), b = random_vec(g, c.N);
    const Tensor xt = make(x, {c.M, c.K}), wt = make(w, {c.N, c.K}), bt = make(b, {c.N});
    auto packed = ops::pack_weight(wt, Precision::BF16);
    // The stored weight is w rounded to bf16, whatever the layout.
    const std::vector<uint16_t> bits = packed->bf16();
    for (int64_t i = 0; i < c.N * c.K; ++i) ASSERT_EQ(bits[i], kernels::bf16_bits(w[i])) << i;
    const Tensor* bp = c.bias ? &bt : nullptr;
    const auto got = run(xt, *packed, bp, Backend::Cpu, 2);
    const auto ref = run(xt, *packed, bp, Backend::Ref, 1);
    std::vector<float> f32(got.size());
    kernels::ref::linear(x.data(), w.data(), c.bias ? b.data() : nullptr, f32.data(), c.M, c.N, c.K);
    const auto mag = magnitudes(x, w, b, c);
    std::vector<double> tol_sum(mag.size()), tol_round(mag.size());
    for (size_t i = 0; i < mag.size(); ++i) {
      // Same bf16 products as the reference; only the f32 summation differs (test_kernel_common.h).
      tol_sum[i] = dot_tol(c.K + 1, mag[i]);
      // bf16 rounds x and w by <= 2^-9 each, so each product by <= 2^-8 (+2^-18): Σ <= 2^-8·(1+2^-10)·mag, plus
      // the f32 summation.
      tol_round[i] = std::ldexp(1.0, -8) * 1.001 * mag[i] + dot_tol(c.K + 1, mag[i]);
    }
    const std::string what = "bf16 M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) + " K=" +
                             std::to_string(c.K) + (packed->onednn ? " (oneDNN)" : " (fallback)");
    EXPECT_TRUE(within(got, ref, tol_sum, what + " vs reference"));
    EXPECT_TRUE(within(got, f32, tol_round, what + " vs f32"));
  }
}

TEST(LinearLowp, Int8SumsAreExactAndWithinQuantizationError) {
  uint32_t seed = 101;
  for (const Case& c : kCases) {
    std::mt19937 g(seed++);
    auto x = random_vec(g, c.M * c.K, -2, 5), w = random_vec(g, c.N * c.K), b = random_vec(g, c.N);
    const Tensor xt = make(x, {c.M, c.K}), wt = make(w, {c.N, c.K}), bt = make(b, {c.N});
    auto packed = ops::pack_weight(wt, Precision::Int8);
    std::vector<int8_t> q(static_cast<size_t>(c.N * c.K));
    std::vector<float> scale(static_cast<size_t>(c.N));
    std::vector<int32_t> colsum(static_cast<size_t>(c.N));
    kernels::quantize_weights_s8(w.data(), c.N, c.K, q.data(), scale.data(), colsum.data());
    ASSERT_EQ(packed->s8(), q);
    ASSERT_EQ(packed->scale, scale);
    ASSERT_EQ(packed->colsum, colsum);
    const Tensor* bp = c.bias ? &bt : nullptr;
    const auto got = run(xt, *packed, bp, Backend::Cpu, 2);
    const auto ref = run(xt, *packed, bp, Backend::Ref, 1);
    // Integer sums are exact in both (s32) and the dequantization is the same code: identical results.
    const std::string what = "int8 M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) + " K=" +
                             std::to_string(c.K) + " levels=" + std::to_string(packed->act_levels);
    EXPECT_TRUE(within(got, ref, {kExact}, what + " vs reference"));
    // Against f32: x is off by <= sa/2 per element, w by <= sw/2: |Δ| <= Σ_k (sa/2·|w| + sw/2·|x| + sa·sw/4).
    std::vector<float> f32(got.size());
    kernels::ref::linear(x.data(), w.data(), c.bias ? b.data() : nullptr, f32.data(), c.M, c.N, c.K);
    std::vector<double> tol(got.size());
    for (int64_t m = 0; m < c.M; ++m) {
      float lo = 0, hi = 0, sx = 0;
      for (int64_t k = 0; k < c.K; ++k) {
        lo = std::min(lo, x[m * c.K + k]);
        hi = std::max(hi, x[m * c.K + k]);
        sx += std::fabs(x[m * c.K + k]);
      }
      const double sa = (hi - lo) / packed->act_levels;
      for (int64_t n = 0; n < c.N; ++n) {
        double sw_abs = 0;
        for (int64_t k = 0; k < c.K; ++k) sw_abs += std::fabs(w[n * c.K + k]);
        tol[m * c.N + n] = sa / 2 * sw_abs + scale[n] / 2 * sx + sa * scale[n] / 4 * c.K + 1e-5 * (sw_abs + sx);
      }
    }
    EXPECT_TRUE(within(got, f32, tol, what + " vs f32"));
  }
}

// Inputs that saturate 16-bit pair sums of u8·s8 products (255·127·2 > 32767) where the ISA has no VNNI: the packed
// weight's activation levels must keep them exact.
TEST(LinearLowp, Int8DoesNotSaturate) {
  const int64_t M = 4, N = 8, K = 64;
  std::vector<float> x(static_cast<size_t>(M * K)), w(static_cast<size_t>(N * K));
  for (size_t i = 0; i < x.size(); ++i) x[i] = (i % 7 == 0) ? -0.01f : 1.0f;  // quantized near the top level
  for (size_t i = 0; i < w.size(); ++i) w[i] = (i % 2 ? 1.0f : 0.999f) * ((i / 64) % 2 ? -1.0f : 1.0f);
  const Tensor xt = make(x, {M, K}), wt = make(w, {N, K});
  auto packed = ops::pack_weight(wt, Precision::Int8);
  EXPECT_TRUE(within(run(xt, *packed, nullptr, Backend::Cpu, 1), run(xt, *packed, nullptr, Backend::Ref, 1), {kExact},
                     "saturating int8 inputs"));
}

TEST(LinearLowp, ChecksArguments) {
  const Tensor w = Tensor::zeros({4, 8});
  EXPECT_THROW(ops::pack_weight(w, Precision::F32), Error);
  EXPECT_THROW(ops::pack_weight(Tensor::zeros({4, 8, 1}), Precision::BF16), Error);
  auto packed = ops::pack_weight(w, Precision::BF16);
  Tensor x = Tensor::zeros({3, 7}), y = Tensor::zeros({3, 4});
  RunContext ctx;
  EXPECT_THROW(ops::linear(x, *packed, nullptr, y, ctx), Error);  // K mismatch
  Tensor x2 = Tensor::zeros({3, 8}), y2 = Tensor::zeros({2, 4});
  EXPECT_THROW(ops::linear(x2, *packed, nullptr, y2, ctx), Error);  // rows mismatch
}
