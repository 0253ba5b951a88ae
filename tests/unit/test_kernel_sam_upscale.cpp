// Unit tests: SAM's fused upscaling kernels (kernels/cpu/sam_upscale.cpp) against their reference twins (double,
// straight from the definitions), at awkward and at the full-size decoder's shapes, and the ops' checks.
// Tolerances per output, from the magnitudes (the reference run on |x|, |w|, |b|, |addend|): the transposed
// convolution's value v carries δ = dot_tol(Cin + 2, mag). LayerNorm2d turns that into (2δ + its own rounding, as in
// test_kernel_layer_norm) · |γ| / σ of the pixel; GELU's slope is at most 1.13 and its erf is within 7.3e-8 absolute
// (kernels/simd_math.h). The projection adds Σ|p|·err(g) + dot_tol(Cout, Σ|p||g|).
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

constexpr double kGeluSlope = 1.13, kErfAbs = 7.3e-8;

// |convT(x) + b + addend| bound per output [cout, 2h, 2w], x channels-first [cin, h, w].
std::vector<float> deconv_mag(const std::vector<float>& x_chw, int64_t cin, int64_t h, int64_t w,
                              const std::vector<float>& wt, int64_t cout, const std::vector<float>& b,
                              const std::vector<float>& add) {
  std::vector<float> mag(add.size());
  const auto ax = abs_vec(x_chw), aw = abs_vec(wt), ab = abs_vec(b);
  kernels::ref::conv_transpose2d_k2s2(ax.data(), cin, h, w, aw.data(), cout, ab.data(), mag.data());
  for (size_t i = 0; i < mag.size(); ++i) mag[i] += std::fabs(add[i]);
  return mag;
}

void check_ln_gelu(int64_t h, int64_t w, int64_t cin, int64_t cout, int threads, uint32_t seed) {
  std::mt19937 g(seed);
  const int64_t ho = 2 * h, wo = 2 * w;
  auto x = random_vec(g, h * w * cin), wt = random_vec(g, cin * cout * 4), b = random_vec(g, cout),
       add = random_vec(g, cout * ho * wo), gm = random_vec(g, cout, 0.5f, 1.5f), bt = random_vec(g, cout);
  std::vector<float> got(add.size(), NAN), want(add.size());
  kernels::cpu::deconv_ln_gelu(x.data(), h, w, cin, wt.data(), cout, b.data(), add.data(), gm.data(), bt.data(), 1e-6f,
                               got.data(), threads);
  kernels::ref::deconv_ln_gelu(x.data(), h, w, cin, wt.data(), cout, b.data(), add.data(), gm.data(), bt.data(), 1e-6f,
                               want.data());
  std::vector<float> x_chw(x.size());
  for (int64_t p = 0; p < h * w; ++p)
    for (int64_t c = 0; c < cin; ++c) x_chw[static_cast<size_t>(c * h * w + p)] = x[static_cast<size_t>(p * cin + c)];
  const std::vector<float> mag = deconv_mag(x_chw, cin, h, w, wt, cout, b, add);
  // The pre-norm values, exactly (double), for σ and z per pixel.
  std::vector<float> pre(add.size());
  std::vector<float> ones(static_cast<size_t>(cout), 1.0f), zeros(static_cast<size_t>(cout), 0.0f);
  kernels::ref::conv_transpose2d_k2s2(x_chw.data(), cin, h, w, wt.data(), cout, b.data(), pre.data());
  std::vector<double> tol(add.size());
  const size_t plane = static_cast<size_t>(ho * wo);
  for (size_t p = 0; p < plane; ++p) {
    double mean = 0, var = 0, dmax = 0, maxdev = 0;
    for (int64_t c = 0; c < cout; ++c) mean += pre[c * plane + p] + add[c * plane + p];
    mean /= static_cast<double>(cout);
    for (int64_t c = 0; c < cout; ++c) {
      const double d = pre[c * plane + p] + add[c * plane + p] - mean;
      var += d * d;
      maxdev = std::max(maxdev, std::fabs(d) + std::fabs(mean));
      dmax = std::max(dmax, dot_tol(cin + 2, mag[c * plane + p]));
    }
    const double sd = std::sqrt(var / static_cast<double>(cout) + 1e-6);
    for (int64_t c = 0; c < cout; ++c) {
      const size_t i = c * plane + p;
      const double z = (pre[i] + add[i] - mean) / sd;
      const double ln = 4 * (2 * std::sqrt(static_cast<double>(cout)) * kEps * (std::fabs(z) + maxdev / sd) +
                             2 * kEps * std::fabs(z)) +
                        2 * dmax / sd;
      tol[i] = kGeluSlope * (ln * gm[static_cast<size_t>(c)] + 2 * kEps * std::fabs(bt[static_cast<size_t>(c)])) +
               kErfAbs * std::fabs(want[i]) + 2 * kEps * std::fabs(want[i]) + 1e-7;
    }
  }
  EXPECT_TRUE(within(got, want, tol, "deconv_ln_gelu " + std::to_string(h) + "x" + std::to_string(w) + " cin=" +
                                         std::to_string(cin) + " cout=" + std::to_string(cout)));
}

void check_gelu_project(int64_t cin, int64_t h, int64_t w, int64_t cout, int64_t m, int threads, uint32_t seed) {
  std::mt19937 g(seed);
  const int64_t ho = 2 * h, wo = 2 * w;
  auto x = random_vec(g, cin * h * w), wt = random_vec(g, cin * cout * 4), b = random_vec(g, cout),
       add = random_vec(g, cout * ho * wo), proj = random_vec(g, m * cout);
  std::vector<float> got(static_cast<size_t>(m * ho * wo), NAN), want(got.size());
  kernels::cpu::deconv_gelu_project(x.data(), cin, h, w, wt.data(), cout, b.data(), add.data(), proj.data(), m,
                                    got.data(), threads);
  kernels::ref::deconv_gelu_project(x.data(), cin, h, w, wt.data(), cout, b.data(), add.data(), proj.data(), m,
                                    want.data());
  const std::vector<float> mag = deconv_mag(x, cin, h, w, wt, cout, b, add);
  const size_t plane = static_cast<size_t>(ho * wo);
  std::vector<double> tol(got.size());
  for (int64_t k = 0; k < m; ++k)
    for (size_t p = 0; p < plane; ++p) {
      double err = 0, pg = 0;
      for (int64_t c = 0; c < cout; ++c) {
        const double v = mag[c * plane + p], ap = std::fabs(proj[static_cast<size_t>(k * cout + c)]);
        err += ap * (kGeluSlope * dot_tol(cin + 2, v) + kErfAbs * v + 2 * kEps * v);
        pg += ap * v;  // |GELU(v)| <= |v|
      }
      tol[k * plane + p] = err + dot_tol(cout, pg);
    }
  EXPECT_TRUE(within(got, want, tol, "deconv_gelu_project cin=" + std::to_string(cin) + " " + std::to_string(h) +
                                         "x" + std::to_string(w) + " cout=" + std::to_string(cout) +
                                         " m=" + std::to_string(m)));
}

}  // namespace

TEST(KernelSamUpscale, LnGeluAwkwardShapes) {
  uint32_t seed = 1;
  for (int64_t h : {1, 3})
    for (int64_t w : {1, 5, 9})
      for (int64_t cin : {1, 7, 32})
        for (int64_t cout : {1, 3, 16}) {
          check_ln_gelu(h, w, cin, cout, static_cast<int>(seed % 2) + 1, seed);
          ++seed;
        }
}

TEST(KernelSamUpscale, LnGeluDecoderShape) { check_ln_gelu(72, 72, 256, 64, 2, 50); }

TEST(KernelSamUpscale, GeluProjectAwkwardShapes) {
  uint32_t seed = 100;
  for (int64_t cin : {1, 6, 64})
    for (int64_t h : {1, 4})
      for (int64_t w : {1, 7})
        for (int64_t cout : {1, 5, 32})
          for (int64_t m : {1, 4}) {
            check_gelu_project(cin, h, w, cout, m, static_cast<int>(seed % 2) + 1, seed);
            ++seed;
          }
}

TEST(KernelSamUpscale, GeluProjectDecoderShape) { check_gelu_project(64, 144, 144, 32, 4, 2, 150); }

TEST(KernelSamUpscale, OpsMatchKernelsAndCheck) {
  std::mt19937 g(7);
  const int64_t h = 3, w = 4, cin = 5, cout = 2;
  auto xv = random_vec(g, h * w * cin), wv = random_vec(g, cin * cout * 4), bv = random_vec(g, cout),
       av = random_vec(g, cout * 4 * h * w), gv = random_vec(g, cout), tv = random_vec(g, cout), pv = random_vec(g, 3 * cout);
  Tensor x = Tensor::borrow(xv.data(), {h * w, cin}, DType::F32), wt = Tensor::borrow(wv.data(), {cin, cout, 2, 2}, DType::F32);
  Tensor b = Tensor::borrow(bv.data(), {cout}, DType::F32), a = Tensor::borrow(av.data(), {cout, 2 * h, 2 * w}, DType::F32);
  Tensor gm = Tensor::borrow(gv.data(), {cout}, DType::F32), bt = Tensor::borrow(tv.data(), {cout}, DType::F32);
  Tensor p = Tensor::borrow(pv.data(), {3, cout}, DType::F32);
  Tensor y = Tensor::empty({cout, 2 * h, 2 * w}), ym = Tensor::empty({3, 2 * h, 2 * w});
  ops::deconv_ln_gelu(x, h, w, wt, b, a, gm, bt, 1e-6f, y, RunContext{2});
  std::vector<float> want(static_cast<size_t>(y.numel()));
  kernels::ref::deconv_ln_gelu(xv.data(), h, w, cin, wt.f32(), cout, bv.data(), av.data(), gv.data(), tv.data(), 1e-6f,
                               want.data());
  EXPECT_TRUE(within(std::vector<float>(y.f32(), y.f32() + y.numel()), want, {1e-4}, "ops::deconv_ln_gelu"));
  // deconv_gelu_project reads x channels-first: the same buffer as [cin, h, w].
  Tensor xc = Tensor::borrow(xv.data(), {cin, h, w}, DType::F32);
  ops::deconv_gelu_project(xc, wt, b, a, p, ym, RunContext{2});
  std::vector<float> want_m(static_cast<size_t>(ym.numel()));
  kernels::ref::deconv_gelu_project(xv.data(), cin, h, w, wv.data(), cout, bv.data(), av.data(), pv.data(), 3,
                                    want_m.data());
  EXPECT_TRUE(within(std::vector<float>(ym.f32(), ym.f32() + ym.numel()), want_m, {1e-4}, "ops::deconv_gelu_project"));

  Tensor bad_b = Tensor::empty({cout + 1}), bad_a = Tensor::empty({cout, 2 * h, 2 * w + 1}), bad_y = Tensor::empty({cout, 2 * h, 2 * w - 1});
  const RunContext one{1};
  EXPECT_THROW(ops::deconv_ln_gelu(x, h, w + 1, wt, b, a, gm, bt, 1e-6f, y, one), Error);  // x is not h x w tokens
  EXPECT_THROW(ops::deconv_ln_gelu(x, h, w, wt, bad_b, a, gm, bt, 1e-6f, y, one), Error);
  EXPECT_THROW(ops::deconv_ln_gelu(x, h, w, wt, b, bad_a, gm, bt, 1e-6f, y, one), Error);
  EXPECT_THROW(ops::deconv_ln_gelu(x, h, w, wt, b, a, bad_b, bt, 1e-6f, y, one), Error);
  EXPECT_THROW(ops::deconv_ln_gelu(x, h, w, wt, b, a, gm, bt, 1e-6f, bad_y, one), Error);
  EXPECT_THROW(ops::deconv_ln_gelu(x, h, w, wt, b, a, gm, bt, 1e-6f, a, one), Error);  // y overlaps addend
  Tensor bad_p = Tensor::empty({3, cout + 1});
  EXPECT_THROW(ops::deconv_gelu_project(xc, wt, bad_b, a, p, ym, one), Error);
  EXPECT_THROW(ops::deconv_gelu_project(xc, wt, b, bad_a, p, ym, one), Error);
  EXPECT_THROW(ops::deconv_gelu_project(xc, wt, b, a, bad_p, ym, one), Error);
  EXPECT_THROW(ops::deconv_gelu_project(xc, wt, b, a, p, y, one), Error);  // y has cout, not M, maps
  EXPECT_THROW(ops::deconv_gelu_project(x, wt, b, a, p, ym, one), Error);  // x is not [C, H, W]
}
