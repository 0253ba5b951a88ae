// Unit tests: connected-component areas (8-connectivity), the CPU union-find kernel against the reference flood fill
// (equal, on random masks of several densities and sizes), hand-checked small cases, the op's checks, and the hole
// filling built on it.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"
#include "model/sam_postprocess.h"

using namespace sam3;

TEST(ComponentAreas, CpuMatchesReference) {
  std::mt19937 g(7);
  for (auto [n, h, w] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {2, 5, 7}, {3, 72, 72}, {1, 1, 50}, {2, 31, 1}})
    for (double density : {0.1, 0.45, 0.6, 0.9}) {
      std::bernoulli_distribution b(density);
      std::vector<uint8_t> m(static_cast<size_t>(n * h * w));
      for (auto& v : m) v = b(g) ? 1 : 0;
      std::vector<int32_t> got(m.size(), -1), want(m.size(), -2);
      kernels::cpu::component_areas(m.data(), n, h, w, got.data(), 2);
      kernels::ref::component_areas(m.data(), n, h, w, want.data());
      EXPECT_EQ(got, want) << n << "x" << h << "x" << w << " density " << density;
    }
}

TEST(ComponentAreas, EightConnectivityByHand) {
  // Diagonal neighbours join (skimage connectivity=2): the X of 5 pixels is one component; the lone pixel another.
  const std::vector<uint8_t> m = {1, 0, 1, 0, 0,  //
                                  0, 1, 0, 0, 1,  //
                                  1, 0, 1, 0, 0};
  const std::vector<int32_t> want = {5, 0, 5, 0, 0, 0, 5, 0, 0, 1, 5, 0, 5, 0, 0};
  Tensor mask = Tensor::empty({3, 5}, DType::U8), areas = Tensor::empty({3, 5}, DType::I32);
  std::copy(m.begin(), m.end(), mask.data<uint8_t>());
  for (Backend be : {Backend::Cpu, Backend::Ref}) {
    RunContext ctx;
    ctx.backend = be;
    ops::component_areas(mask, areas, ctx);
    EXPECT_EQ(std::vector<int32_t>(areas.data<int32_t>(), areas.data<int32_t>() + 15), want);
  }
  Tensor wrong = Tensor::empty({3, 5}, DType::I64);
  EXPECT_THROW(ops::component_areas(mask, wrong, RunContext{}), Error);
  Tensor f32 = Tensor::empty({3, 5});
  EXPECT_THROW(ops::component_areas(f32, areas, RunContext{}), Error);
}

TEST(ComponentAreas, HoleFillingFillsOnlySmallBackgroundComponents) {
  // A 6x6 foreground map (logit 1) with a 2-pixel hole at (3, 3)-(3, 4) and a 4-pixel background corner (not
  // touching the hole, even diagonally).
  Tensor logits = Tensor::empty({1, 6, 6});
  for (int i = 0; i < 36; ++i) logits.f32()[i] = 1.0f;
  logits.f32()[3 * 6 + 3] = -3.0f;
  logits.f32()[3 * 6 + 4] = -1.0f;
  for (int i : {0, 1, 6, 7}) logits.f32()[i] = -2.0f;
  const Tensor a = fill_mask_holes(logits, 2.0, 0.0, RunContext{});
  EXPECT_EQ(a.f32()[3 * 6 + 3], 10.0f);  // hole of area 2 <= 2: set to threshold + 10
  EXPECT_EQ(a.f32()[3 * 6 + 4], 10.0f);
  EXPECT_EQ(a.f32()[0], -2.0f);  // the corner (area 4) stays
  const Tensor b = fill_mask_holes(logits, 4.0, 0.0, RunContext{});
  EXPECT_EQ(b.f32()[0], 10.0f);
  const Tensor c = fill_mask_holes(logits, 0.0, 0.0, RunContext{});
  EXPECT_EQ(c.f32()[3 * 6 + 3], -3.0f);  // max_hole_area 0: nothing filled
}
