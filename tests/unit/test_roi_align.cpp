// RoIAlign (ops::roi_align, core/ops.h): the reference kernel against closed-form values, and the CPU kernel against the
// reference on random maps and boxes (inside, straddling the border, outside, degenerate, huge), both aligned modes,
// adaptive and fixed sampling, several scales and thread counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"

namespace sam3 {
namespace {

constexpr double kEps = std::numeric_limits<float>::epsilon();

std::vector<float> run_ref(const kernels::RoiAlignArgs& args) {
  kernels::RoiAlignArgs a = args;
  std::vector<float> y(static_cast<size_t>(a.n * a.c * a.out_h * a.out_w), -7.0f);
  a.y = y.data();
  kernels::ref::roi_align(a);
  return y;
}

std::vector<float> run_cpu(const kernels::RoiAlignArgs& args, int n_threads) {
  kernels::RoiAlignArgs a = args;
  std::vector<float> y(static_cast<size_t>(a.n * a.c * a.out_h * a.out_w), -7.0f);
  a.y = y.data();
  kernels::cpu::roi_align(a, n_threads);
  return y;
}

// f(y, x) = 0.25·x + 0.5·y + 1 is reproduced exactly by bilinear interpolation, so for a box whose samples all lie
// inside [0, W-1]×[0, H-1] each output is f at the bin centre (the samples are symmetric about it).
TEST(RoiAlign, RefLinearRampGivesBinCentres) {
  const int64_t H = 12, W = 16;
  std::vector<float> x(static_cast<size_t>(2 * H * W));
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t i = 0; i < H; ++i)
      for (int64_t j = 0; j < W; ++j) x[static_cast<size_t>((c * H + i) * W + j)] = (c + 1) * (0.25f * j + 0.5f * i + 1);
  const std::vector<float> boxes = {1.0f, 2.0f, 8.0f, 9.0f, 0.5f, 0.25f, 13.5f, 10.75f, 3.0f, 3.0f, 3.5f, 3.2f};
  kernels::RoiAlignArgs a;
  a.x = x.data();
  a.c = 2;
  a.h = H;
  a.w = W;
  a.boxes = boxes.data();
  a.n = 3;
  a.out_h = 7;
  a.out_w = 7;
  std::vector<float> y = run_ref(a);
  for (int64_t n = 0; n < 3; ++n) {
    const float* b = &boxes[static_cast<size_t>(n * 4)];
    const double rw = std::max(b[2] - b[0], 1.0f), rh = std::max(b[3] - b[1], 1.0f);
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t ph = 0; ph < 7; ++ph)
        for (int64_t pw = 0; pw < 7; ++pw) {
          const double cx = b[0] + (pw + 0.5) * rw / 7, cy = b[1] + (ph + 0.5) * rh / 7;
          const double want = (c + 1) * (0.25 * cx + 0.5 * cy + 1);
          EXPECT_NEAR(y[static_cast<size_t>(((n * 2 + c) * 7 + ph) * 7 + pw)], want, 1e-5 * std::fabs(want))
              << "box " << n << " c " << c << " bin " << ph << "," << pw;
        }
  }
}

// Hand-checkable border rules on a 1-channel 2x2 map [[1, 2], [3, 4]], output 1x1, sampling_ratio 1:
TEST(RoiAlign, RefBorderRules) {
  const std::vector<float> x = {1, 2, 3, 4};
  auto one = [&](std::vector<float> box, bool aligned) {
    kernels::RoiAlignArgs a;
    a.x = x.data();
    a.c = 1;
    a.h = 2;
    a.w = 2;
    a.boxes = box.data();
    a.n = 1;
    a.out_h = 1;
    a.out_w = 1;
    a.sampling_ratio = 1;
    a.aligned = aligned;
    return run_ref(a)[0];
  };
  // Box (0,0)-(1,1): one sample at its centre (0.5, 0.5) -> mean of the four = 2.5.
  EXPECT_FLOAT_EQ(one({0, 0, 1, 1}, false), 2.5f);
  // Degenerate box at (0,0) is forced to 1x1 when !aligned -> same sample (0.5, 0.5).
  EXPECT_FLOAT_EQ(one({0, 0, 0, 0}, false), 2.5f);
  // aligned=true shifts by -0.5: box (0.5,0.5)-(1.5,1.5) samples (0.5, 0.5) again.
  EXPECT_FLOAT_EQ(one({0.5f, 0.5f, 1.5f, 1.5f}, true), 2.5f);
  // Sample at (-0.5, -0.5): inside the [-1, H] margin, clamped to (0, 0) -> 1.
  EXPECT_FLOAT_EQ(one({-1, -1, 0, 0}, false), 1.0f);
  // Sample at (1.75, 1.75): beyond the last row/col, clamped to (1, 1) -> 4.
  EXPECT_FLOAT_EQ(one({1.25f, 1.25f, 2.25f, 2.25f}, false), 4.0f);
  // Sample at (2.5, 2.5) > H: zero.
  EXPECT_FLOAT_EQ(one({2, 2, 3, 3}, false), 0.0f);
  // Sample at (-1.5, 0.5): y < -1 -> zero.
  EXPECT_FLOAT_EQ(one({0, -2, 1, -1}, false), 0.0f);
}

// CPU vs reference. Both use the same float32 sample positions; they differ only in the float32 weights and the
// float32 running sum of 4·count products (count = samples per bin). Every partial sum is at most count·max|x| and
// the weights are ≥ 0 with Σ = count, so the rounding error of the sum is ≤ 4·count·(eps/2)·count·max|x|/count, plus
// ≈ 2 eps relative from the weights (hy·hx) and the final division: tol = (2·count + 3)·eps·max|x| (a bound).
TEST(RoiAlign, CpuMatchesReference) {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  int checked = 0;
  for (int iter = 0; iter < 60; ++iter) {
    const int64_t C = 1 + iter % 5, H = 1 + rng() % 23, W = 1 + rng() % 23;
    std::vector<float> x(static_cast<size_t>(C * H * W));
    for (auto& v : x) v = 4 * u(rng) - 2;
    float max_abs = 0;
    for (float v : x) max_abs = std::max(max_abs, std::fabs(v));
    const float scale = (iter % 3 == 0) ? 0.5f : 1.0f;
    const int64_t N = 1 + rng() % 4;
    std::vector<float> boxes;
    for (int64_t n = 0; n < N; ++n) {
      const int kind = static_cast<int>(rng() % 4);
      const float sw = W / scale, sh = H / scale;
      float x1, y1, x2, y2;
      if (kind == 0) {  // inside
        x1 = u(rng) * sw; y1 = u(rng) * sh; x2 = x1 + u(rng) * (sw - x1); y2 = y1 + u(rng) * (sh - y1);
      } else if (kind == 1) {  // straddling / outside the border
        x1 = (u(rng) * 1.6f - 0.3f) * sw; y1 = (u(rng) * 1.6f - 0.3f) * sh;
        x2 = x1 + u(rng) * sw; y2 = y1 + u(rng) * sh;
      } else if (kind == 2) {  // tiny or inverted
        x1 = u(rng) * sw; y1 = u(rng) * sh; x2 = x1 + (u(rng) - 0.5f); y2 = y1 + (u(rng) - 0.5f);
      } else {  // huge: many samples per bin
        x1 = -u(rng) * sw; y1 = -u(rng) * sh; x2 = sw * (1 + 2 * u(rng)); y2 = sh * (1 + 2 * u(rng));
      }
      boxes.insert(boxes.end(), {x1, y1, x2, y2});
    }
    kernels::RoiAlignArgs a;
    a.x = x.data();
    a.c = C;
    a.h = H;
    a.w = W;
    a.boxes = boxes.data();
    a.n = N;
    a.spatial_scale = scale;
    a.sampling_ratio = (iter % 4 == 1) ? 2 : -1;
    a.aligned = (iter % 2 == 1);
    a.out_h = (iter % 5 == 0) ? 3 : 7;
    a.out_w = (iter % 5 == 0) ? 5 : 7;
    const std::vector<float> want = run_ref(a);
    for (int threads : {1, 3}) {
      const std::vector<float> got = run_cpu(a, threads);
      for (int64_t n = 0; n < N; ++n) {
        const float count = kernels::roi_geometry(a, n).count;
        const double tol = (2.0 * count + 3.0) * kEps * max_abs;
        const int64_t per_box = C * a.out_h * a.out_w;
        for (int64_t i = n * per_box; i < (n + 1) * per_box; ++i) {
          ASSERT_NEAR(got[static_cast<size_t>(i)], want[static_cast<size_t>(i)], tol)
              << "iter " << iter << " box " << n << " (" << boxes[n * 4] << "," << boxes[n * 4 + 1] << ","
              << boxes[n * 4 + 2] << "," << boxes[n * 4 + 3] << ") flat " << i << " threads " << threads;
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 10000);
}

// Huge and non-finite boxes (the server once passed boxes up to |v| <= 1e9 straight through): the adaptive grid is
// capped, so 64 boxes [-1e6, 0, 1e6, 10] on a 72x72 map take a few MB and milliseconds instead of ~34 GB; every
// float->int conversion is defined (no UBSan report); both kernels agree and give finite values.
TEST(RoiAlign, HugeAndNonFiniteBoxesAreBounded) {
  const int64_t C = 2, H = 72, W = 72, N = 64;
  std::vector<float> x(static_cast<size_t>(C * H * W));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 13) * 0.25f - 1.0f;
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> boxes;
  for (int64_t n = 0; n < N; ++n) {
    switch (n % 8) {
      case 0: boxes.insert(boxes.end(), {-1e6f, 0.0f, 1e6f, 10.0f}); break;
      case 1: boxes.insert(boxes.end(), {-1e30f, -1e30f, 1e30f, 1e30f}); break;
      case 2: boxes.insert(boxes.end(), {0.0f, 0.0f, inf, inf}); break;
      case 3: boxes.insert(boxes.end(), {-inf, -inf, inf, inf}); break;
      case 4: boxes.insert(boxes.end(), {nan, 0.0f, 10.0f, nan}); break;
      case 5: boxes.insert(boxes.end(), {1e9f, 1e9f, -1e9f, -1e9f}); break;  // inverted
      case 6: boxes.insert(boxes.end(), {-3e9f, 5.0f, 3e9f, 6.0f}); break;  // ceil(roi/7) > INT_MAX
      default: boxes.insert(boxes.end(), {3.0f, 4.0f, 50.0f, 60.0f}); break;
    }
  }
  for (bool aligned : {false, true}) {
    kernels::RoiAlignArgs a;
    a.x = x.data();
    a.c = C;
    a.h = H;
    a.w = W;
    a.boxes = boxes.data();
    a.n = N;
    a.aligned = aligned;
    a.out_h = 7;
    a.out_w = 7;
    for (int64_t n = 0; n < N; ++n) {
      const kernels::RoiGeometry g = kernels::roi_geometry(a, n);
      EXPECT_LE(g.grid_h, kernels::roi_grid_cap(7, H)) << "box " << n;
      EXPECT_LE(g.grid_w, kernels::roi_grid_cap(7, W)) << "box " << n;
      EXPECT_GE(g.count, 1.0f);
    }
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<float> want = run_ref(a);
    const std::vector<float> got = run_cpu(a, 2);
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 20.0);
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_TRUE(std::isfinite(got[i])) << i;
      ASSERT_NEAR(got[i], want[i], 1e-4) << i;
    }
  }
}

// The cap never touches a box within the map: for every box inside [0, extent] (and up to one pixel past each
// edge) the grid is torchvision's ceil(roi / pooled), unchanged.
TEST(RoiAlign, GridCapKeepsTorchvisionGridInsideTheMap) {
  for (int64_t extent : {1, 5, 7, 24, 72, 288})
    for (int64_t pooled : {1, 3, 7, 14})
      for (float roi = 0.0f; roi <= static_cast<float>(extent + 2); roi += 0.25f)
        EXPECT_EQ(kernels::roi_grid(roi, pooled, extent),
                  static_cast<int>(std::ceil(roi / static_cast<float>(pooled))))
            << "roi " << roi << " pooled " << pooled << " extent " << extent;
}

TEST(RoiAlign, OpChecksShapes) {
  Tensor x = Tensor::zeros({1, 4, 5, 6});
  Tensor boxes = Tensor::zeros({2, 4});
  Tensor y = Tensor::zeros({2, 4, 7, 7});
  EXPECT_NO_THROW(ops::roi_align(x, boxes, 1.0f, -1, false, y, RunContext{1}));
  Tensor bad_y = Tensor::zeros({2, 3, 7, 7});
  EXPECT_THROW(ops::roi_align(x, boxes, 1.0f, -1, false, bad_y, RunContext{1}), Error);
  Tensor bad_boxes = Tensor::zeros({2, 5});
  EXPECT_THROW(ops::roi_align(x, bad_boxes, 1.0f, -1, false, y, RunContext{1}), Error);
  Tensor bad_x = Tensor::zeros({2, 4, 5, 6});
  EXPECT_THROW(ops::roi_align(bad_x, boxes, 1.0f, -1, false, y, RunContext{1}), Error);
  // Zero boxes is fine (a text-only prompt).
  Tensor no_boxes = Tensor::zeros({0, 4});
  Tensor no_y = Tensor::zeros({0, 4, 7, 7});
  EXPECT_NO_THROW(ops::roi_align(x, no_boxes, 1.0f, -1, false, no_y, RunContext{1}));
}

}  // namespace
}  // namespace sam3
