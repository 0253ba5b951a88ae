// Unit tests: CPU conv2d (im2col + sgemm, banded) and conv_transpose2d_k2s2 (sgemm + scatter) against the
// reference direct convolutions; conv3x3_up2_accumulate (polyphase implicit GEMM) against its reference twin, and the
// polyphase identity itself against conv2d of the up-sampled map; the ops' shape checks.
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/cpu/onednn_matmul.h"
#include "kernels/ref.h"
#include "test_kernel_common.h"

using namespace sam3;
using namespace sam3::test;

namespace {

// Tolerance per output: dot_tol(K+1, Σ|x||w| + |b|) with K = Cin·kh·kw (see test_kernel_common.h), Σ|x||w|
// computed by the reference conv on absolute values.
void check_conv(int64_t cin, int64_t h, int64_t w, int64_t cout, int64_t kh, int64_t kw, int stride, int pad,
                bool bias, int threads, uint32_t seed) {
  std::mt19937 g(seed);
  auto x = random_vec(g, cin * h * w), wt = random_vec(g, cout * cin * kh * kw), b = random_vec(g, cout);
  const int64_t ho = (h + 2 * pad - kh) / stride + 1, wo = (w + 2 * pad - kw) / stride + 1;
  std::vector<float> got(static_cast<size_t>(cout * ho * wo), NAN), want(got.size()), mag(got.size());
  const float* bp = bias ? b.data() : nullptr;
  kernels::cpu::conv2d(x.data(), cin, h, w, wt.data(), cout, kh, kw, bp, stride, pad, got.data(), threads);
  kernels::ref::conv2d(x.data(), cin, h, w, wt.data(), cout, kh, kw, bp, stride, pad, want.data());
  auto ax = abs_vec(x), aw = abs_vec(wt), ab = abs_vec(b);
  kernels::ref::conv2d(ax.data(), cin, h, w, aw.data(), cout, kh, kw, bias ? ab.data() : nullptr, stride, pad,
                       mag.data());
  std::vector<double> tol(mag.size());
  for (size_t i = 0; i < mag.size(); ++i) tol[i] = dot_tol(cin * kh * kw + 1, mag[i]);
  EXPECT_TRUE(within(got, want, tol,
                     "conv2d cin=" + std::to_string(cin) + " " + std::to_string(h) + "x" + std::to_string(w) +
                         " cout=" + std::to_string(cout) + " k=" + std::to_string(kh) + "x" + std::to_string(kw) +
                         " s=" + std::to_string(stride) + " p=" + std::to_string(pad)));
}

void check_convt(int64_t cin, int64_t h, int64_t w, int64_t cout, bool bias, int threads, uint32_t seed) {
  std::mt19937 g(seed);
  auto x = random_vec(g, cin * h * w), wt = random_vec(g, cin * cout * 4), b = random_vec(g, cout);
  std::vector<float> got(static_cast<size_t>(cout * 4 * h * w), NAN), want(got.size()), mag(got.size());
  const float* bp = bias ? b.data() : nullptr;
  kernels::cpu::conv_transpose2d_k2s2(x.data(), cin, h, w, wt.data(), cout, bp, got.data(), threads);
  kernels::ref::conv_transpose2d_k2s2(x.data(), cin, h, w, wt.data(), cout, bp, want.data());
  auto ax = abs_vec(x), aw = abs_vec(wt), ab = abs_vec(b);
  kernels::ref::conv_transpose2d_k2s2(ax.data(), cin, h, w, aw.data(), cout, bias ? ab.data() : nullptr, mag.data());
  std::vector<double> tol(mag.size());
  for (size_t i = 0; i < mag.size(); ++i) tol[i] = dot_tol(cin + 1, mag[i]);
  EXPECT_TRUE(within(got, want, tol,
                     "conv_transpose2d cin=" + std::to_string(cin) + " " + std::to_string(h) + "x" +
                         std::to_string(w) + " cout=" + std::to_string(cout)));
}

// y0 + conv3x3_pad1(nearest_up2(x)) three ways: the CPU kernel and its reference twin on the polyphase weights (per
// element within dot_tol of 4·Cin + 1 terms over Σ|wp||x| + |y0|), and the reference conv2d of the up-sampled map with
// the original weights (the identity, through ops: within the same bound computed from the original weights with 9·Cin
// terms plus the rounding of the polyphase sums, at most 3 ulp of the largest partial sum: 4 kernel taps are added).
void check_conv_up2(int64_t cin, int64_t h, int64_t w, int64_t cout, int threads, uint32_t seed) {
  std::mt19937 g(seed);
  auto xv = random_vec(g, cin * h * w), wv = random_vec(g, cout * cin * 9), y0 = random_vec(g, cout * 4 * h * w);
  Tensor x = Tensor::empty({cin, h, w}), wt = Tensor::empty({cout, cin, 3, 3});
  std::copy(xv.begin(), xv.end(), x.f32());
  std::copy(wv.begin(), wv.end(), wt.f32());
  const Tensor wp = ops::conv3x3_up2_weights(wt);
  const std::string what = "conv3x3_up2 cin=" + std::to_string(cin) + " " + std::to_string(h) + "x" +
                           std::to_string(w) + " cout=" + std::to_string(cout) + " threads=" + std::to_string(threads);
  std::vector<float> got = y0, want = y0, mag = abs_vec(y0);
  kernels::cpu::conv3x3_up2_accumulate(x.f32(), cin, h, w, wp.f32(), cout, got.data(), threads);
  kernels::ref::conv3x3_up2_accumulate(x.f32(), cin, h, w, wp.f32(), cout, want.data());
  const std::vector<float> awp(abs_vec(std::vector<float>(wp.f32(), wp.f32() + wp.numel())));
  kernels::ref::conv3x3_up2_accumulate(abs_vec(xv).data(), cin, h, w, awp.data(), cout, mag.data());
  std::vector<double> tol(mag.size());
  for (size_t i = 0; i < mag.size(); ++i) tol[i] = dot_tol(4 * cin + 1, mag[i]);
  EXPECT_TRUE(within(got, want, tol, what + " (cpu vs ref)"));

  // The identity: conv2d(upsample_nearest(x)) with the original 3×3 weights, plus y0.
  Tensor up = Tensor::empty({cin, 2 * h, 2 * w}), plain = Tensor::empty({cout, 2 * h, 2 * w});
  ops::upsample_nearest(x, nullptr, up, RunContext{1, nullptr, nullptr, Backend::Ref});
  ops::conv2d(up, wt, nullptr, 1, 1, plain, RunContext{1, nullptr, nullptr, Backend::Ref});
  Tensor aup = Tensor::empty({cin, 2 * h, 2 * w}), aplain = Tensor::empty({cout, 2 * h, 2 * w});
  Tensor ax = Tensor::empty({cin, h, w}), aw = Tensor::empty({cout, cin, 3, 3});
  for (int64_t i = 0; i < x.numel(); ++i) ax.f32()[i] = std::fabs(x.f32()[i]);
  for (int64_t i = 0; i < wt.numel(); ++i) aw.f32()[i] = std::fabs(wt.f32()[i]);
  ops::upsample_nearest(ax, nullptr, aup, RunContext{1, nullptr, nullptr, Backend::Ref});
  ops::conv2d(aup, aw, nullptr, 1, 1, aplain, RunContext{1, nullptr, nullptr, Backend::Ref});
  std::vector<float> ident(got.size());
  for (size_t i = 0; i < ident.size(); ++i) ident[i] = y0[i] + plain.f32()[i];
  for (size_t i = 0; i < tol.size(); ++i)
    tol[i] = dot_tol(9 * cin + 1, aplain.f32()[i] + std::fabs(y0[i])) + 3 * kEps * aplain.f32()[i];
  EXPECT_TRUE(within(got, ident, tol, what + " (vs conv2d of the up-sampled map)"));
}

}  // namespace

TEST(KernelConvUp2, AwkwardShapes) {
  uint32_t seed = 100;
  struct C { int64_t cin, h, w, cout; int threads; };
  for (const C& c : {C{1, 1, 1, 1, 1}, C{3, 1, 5, 2, 2}, C{5, 4, 1, 3, 1}, C{7, 9, 6, 5, 2}, C{16, 12, 13, 8, 2},
                     C{33, 18, 18, 17, 3}})
    check_conv_up2(c.cin, c.h, c.w, c.cout, c.threads, seed++);
}
TEST(KernelConvUp2, PixelDecoderShape) { check_conv_up2(64, 36, 36, 64, 2, 7); }  // the tiny model's 288-level stage

TEST(KernelConv2d, AwkwardShapes) {
  uint32_t seed = 1;
  struct C { int64_t cin, h, w, cout, kh, kw; int stride, pad; };
  for (const C& c : {C{1, 1, 1, 1, 1, 1, 1, 0}, C{3, 7, 5, 2, 1, 1, 1, 0}, C{5, 13, 11, 7, 3, 3, 1, 1},
                     C{4, 9, 9, 3, 3, 3, 2, 1}, C{3, 28, 42, 5, 14, 14, 14, 0}, C{3, 29, 31, 4, 14, 14, 14, 0},
                     C{2, 8, 6, 3, 2, 3, 1, 2}, C{17, 6, 7, 9, 1, 1, 2, 0}, C{6, 5, 5, 2, 5, 5, 1, 2},
                     C{1, 3, 3, 1, 3, 3, 1, 1}})
    for (bool bias : {false, true}) check_conv(c.cin, c.h, c.w, c.cout, c.kh, c.kw, c.stride, c.pad, bias,
                                               static_cast<int>(seed % 2) + 1, seed), ++seed;
}

// Large enough that the im2col buffer is split into several bands of output rows (band = 8M floats / (K·Wo)), on
// the im2col path (the `_isa_avx2` copy of this test on an AVX-512 CPU, every run on an AVX2 one).
TEST(KernelConv2d, BandedIm2col) { check_conv(256, 30, 288, 3, 3, 3, 1, 1, true, 2, 40); }

// Results must not depend on --threads: each output the same bits on 1, 2 and 3 threads, on whichever path this CPU
// takes (oneDNN where onednn_f32(), else im2col + OpenBLAS), at the neck's shape (3x3, 256 channels; smaller map).
TEST(KernelConv2d, SameBitsWhateverThreads) {
  std::printf("conv2d on %s\n", kernels::cpu::onednn_f32() ? "oneDNN" : "im2col + OpenBLAS");
  struct C {
    int64_t cin, h, w, cout, k;
    int stride, pad;
  };
  uint32_t seed = 60;
  for (const C& c : {C{256, 36, 36, 256, 3, 1, 1}, C{64, 45, 38, 32, 3, 2, 1}, C{8, 33, 29, 16, 5, 1, 2}}) {
    std::mt19937 g(seed++);
    auto x = random_vec(g, c.cin * c.h * c.w), wt = random_vec(g, c.cout * c.cin * c.k * c.k);
    auto b = random_vec(g, c.cout);
    const int64_t ho = (c.h + 2 * c.pad - c.k) / c.stride + 1, wo = (c.w + 2 * c.pad - c.k) / c.stride + 1;
    std::vector<float> first;
    for (int threads : {2, 1, 3}) {
      std::vector<float> y(static_cast<size_t>(c.cout * ho * wo), NAN);
      kernels::cpu::conv2d(x.data(), c.cin, c.h, c.w, wt.data(), c.cout, c.k, c.k, b.data(), c.stride, c.pad, y.data(),
                           threads);
      if (first.empty()) {
        first = y;
        continue;
      }
      EXPECT_EQ(std::memcmp(y.data(), first.data(), y.size() * sizeof(float)), 0)
          << "conv2d cin=" << c.cin << " " << c.h << "x" << c.w << " k=" << c.k << " s=" << c.stride << " on "
          << threads << " threads differs from 2 threads";
    }
  }
}

TEST(KernelConvTranspose, AwkwardShapes) {
  uint32_t seed = 100;
  for (int64_t cin : {1, 3, 17})
    for (int64_t h : {1, 5})
      for (int64_t w : {1, 7})
        for (int64_t cout : {1, 2, 9})
          check_convt(cin, h, w, cout, (seed % 3) != 0, static_cast<int>(seed % 2) + 1, seed), ++seed;
}

// Several bands of input rows (band = 8M floats / (4·Cout·W)).
TEST(KernelConvTranspose, Banded) { check_convt(3, 100, 144, 256, true, 2, 7); }

TEST(KernelConv, OpChecks) {
  Tensor x = Tensor::zeros({1, 3, 8, 8}), w = Tensor::zeros({4, 3, 3, 3}), b = Tensor::zeros({4});
  Tensor y = Tensor::empty({4, 8, 8}), y1 = Tensor::empty({1, 4, 8, 8});
  ops::conv2d(x, w, &b, 1, 1, y, RunContext{1});
  ops::conv2d(x, w, &b, 1, 1, y1, RunContext{1});
  Tensor bad_y = Tensor::empty({4, 6, 6}), bad_w = Tensor::zeros({4, 2, 3, 3}), bad_b = Tensor::zeros({5});
  EXPECT_THROW(ops::conv2d(x, w, &b, 1, 1, bad_y, RunContext{1}), Error);
  EXPECT_THROW(ops::conv2d(x, bad_w, &b, 1, 1, y, RunContext{1}), Error);
  EXPECT_THROW(ops::conv2d(x, w, &bad_b, 1, 1, y, RunContext{1}), Error);
  EXPECT_THROW(ops::conv2d(x, w, &b, 0, 1, y, RunContext{1}), Error);
  Tensor x2 = Tensor::zeros({2, 3, 8, 8});
  EXPECT_THROW(ops::conv2d(x2, w, &b, 1, 1, y, RunContext{1}), Error);  // batch 2
  Tensor tw = Tensor::zeros({3, 5, 2, 2}), ty = Tensor::empty({5, 16, 16}), tb = Tensor::zeros({5});
  ops::conv_transpose2d_k2s2(x, tw, &tb, ty, RunContext{1});
  Tensor bad_tw = Tensor::zeros({3, 5, 3, 3});
  EXPECT_THROW(ops::conv_transpose2d_k2s2(x, bad_tw, &tb, ty, RunContext{1}), Error);
  EXPECT_THROW(ops::conv_transpose2d_k2s2(x, tw, &b, ty, RunContext{1}), Error);
  EXPECT_THROW(ops::conv_transpose2d_k2s2(x, tw, &tb, y, RunContext{1}), Error);
  // conv3x3_up2: weights must be 3×3; the polyphase weights [2,2,2,2,Cout,Cin]; y [Cout, 2H, 2W].
  EXPECT_THROW(ops::conv3x3_up2_weights(tw), Error);
  const Tensor wp = ops::conv3x3_up2_weights(w);
  EXPECT_EQ(wp.shape(), (Shape{2, 2, 2, 2, 4, 3}));
  Tensor uy = Tensor::empty({4, 16, 16});
  ops::conv3x3_up2_accumulate(x, wp, uy, RunContext{1});
  EXPECT_THROW(ops::conv3x3_up2_accumulate(x, wp, y, RunContext{1}), Error);        // not 2x
  EXPECT_THROW(ops::conv3x3_up2_accumulate(x, w, uy, RunContext{1}), Error);        // not polyphase
  EXPECT_THROW(ops::conv3x3_up2_accumulate(x2, wp, uy, RunContext{1}), Error);      // batch 2
  Tensor y5 = Tensor::empty({5, 16, 16});
  EXPECT_THROW(ops::conv3x3_up2_accumulate(x, wp, y5, RunContext{1}), Error);       // Cout
}
