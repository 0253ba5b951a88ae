// Unit tests: the fused bilinear up-sampling + threshold (pick's full-size masks) against its reference twin
// (upsample_bilinear_f32 then v > thr): the same 0 / 1 everywhere, for the threshold 0 (where runs of columns are
// decided by the sign of their taps) and others, on logits with large flat regions, sign changes, zeros, tiny
// values and holes; and the op's checks.
#include <gtest/gtest.h>

#include <cmath>
#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"

using namespace sam3;

namespace {

// Mask-like logits: a smooth blob (positive inside), flat regions, exact zeros, denormal-sized and tiny values.
std::vector<float> logits(int64_t n, int64_t h, int64_t w, uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n * h * w));
  for (int64_t k = 0; k < n; ++k)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const float dy = (static_cast<float>(y) - h / 2.0f) / (h / 3.0f + 1), dx = (static_cast<float>(x) - w / 2.0f) / (w / 4.0f + 1);
        float val = 8.0f * (1.0f - dx * dx - dy * dy) + 0.5f * u(g) + static_cast<float>(k);
        const uint32_t r = g() % 64;
        if (r == 0) val = 0.0f;
        if (r == 1) val = -0.0f;
        if (r == 2) val = 1e-40f;   // denormal: its products underflow
        if (r == 3) val = -1e-38f;
        if (r == 4) val = 2e-30f;
        v[static_cast<size_t>((k * h + y) * w + x)] = val;
      }
  return v;
}

void check(int64_t n, int64_t h, int64_t w, int64_t oh, int64_t ow, float thr, int threads, uint32_t seed) {
  const std::vector<float> in = logits(n, h, w, seed);
  std::vector<uint8_t> got(static_cast<size_t>(n * oh * ow), 7), want(got.size());
  kernels::cpu::upsample_bilinear_threshold_u8(in.data(), n, h, w, thr, got.data(), oh, ow, threads);
  kernels::ref::upsample_bilinear_threshold_u8(in.data(), n, h, w, thr, want.data(), oh, ow);
  int64_t diff = 0, ones = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    diff += got[i] != want[i];
    ones += want[i];
  }
  EXPECT_EQ(diff, 0) << n << "x" << h << "x" << w << " -> " << oh << "x" << ow << " thr " << thr;
  EXPECT_GT(ones, 0);  // both classes present: the test exercises the decision
  EXPECT_LT(ones, static_cast<int64_t>(got.size()));
}

}  // namespace

TEST(KernelUpsampleThreshold, SameAsReference) {
  uint32_t seed = 1;
  for (float thr : {0.0f, 0.37f, -1.5f})
    for (auto [h, w, oh, ow] : std::vector<std::array<int64_t, 4>>{
             {72, 72, 720, 1280}, {288, 288, 720, 1280}, {288, 288, 1080, 811}, {5, 7, 5, 7}, {9, 6, 4, 3}, {13, 17, 100, 31}}) {
      check(3, h, w, oh, ow, thr, static_cast<int>(seed % 2) + 1, seed);
      ++seed;
    }
}

TEST(KernelUpsampleThreshold, OpChecks) {
  const std::vector<float> in = logits(2, 6, 8, 5);
  Tensor x = Tensor::empty({2, 6, 8});
  std::copy(in.begin(), in.end(), x.f32());
  Tensor y = Tensor::empty({2, 12, 20}, DType::U8);
  ops::upsample_bilinear_threshold(x, 0.0f, y, RunContext{2});
  std::vector<uint8_t> want(2 * 12 * 20);
  kernels::ref::upsample_bilinear_threshold_u8(in.data(), 2, 6, 8, 0.0f, want.data(), 12, 20);
  EXPECT_EQ(std::vector<uint8_t>(y.data<uint8_t>(), y.data<uint8_t>() + y.numel()), want);
  Tensor yf = Tensor::empty({2, 12, 20}), y1 = Tensor::empty({1, 12, 20}, DType::U8);
  EXPECT_THROW(ops::upsample_bilinear_threshold(x, 0.0f, yf, RunContext{1}), Error);  // not U8
  EXPECT_THROW(ops::upsample_bilinear_threshold(x, 0.0f, y1, RunContext{1}), Error);  // map count
  EXPECT_THROW(ops::upsample_bilinear_threshold(x, NAN, y, RunContext{1}), Error);
}
