// Unit tests: the CPU nearest-resize kernel against the reference (bit-exact: it only copies and adds once), plus
// the 2× pixel-replication property and ops::upsample_nearest's checks.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"
#include "test_kernel_common.h"

using namespace sam3;
using namespace sam3::test;

TEST(KernelUpsampleNearest, MatchesReferenceExactly) {
  uint32_t seed = 1;
  for (auto [h, w, oh, ow] : std::vector<std::array<int64_t, 4>>{
           {1, 1, 3, 5}, {2, 3, 4, 6}, {5, 7, 10, 14}, {18, 18, 36, 36}, {7, 5, 9, 13}, {9, 9, 4, 5}, {3, 3, 3, 3}}) {
    for (bool add : {false, true}) {
      std::mt19937 g(seed++);
      const int64_t c = 3;
      auto x = random_vec(g, c * h * w), a = random_vec(g, c * oh * ow);
      std::vector<float> got(static_cast<size_t>(c * oh * ow), NAN), want(got.size());
      kernels::cpu::upsample_nearest(x.data(), c, h, w, add ? a.data() : nullptr, oh, ow, got.data(), 2);
      kernels::ref::upsample_nearest(x.data(), c, h, w, add ? a.data() : nullptr, oh, ow, want.data());
      EXPECT_TRUE(within(got, want, {0.0}, "upsample_nearest " + std::to_string(h) + "x" + std::to_string(w) + "->" +
                                               std::to_string(oh) + "x" + std::to_string(ow)));
    }
  }
}

TEST(KernelUpsampleNearest, TwoTimesIsReplication) {
  std::mt19937 g(5);
  auto x = random_vec(g, 2 * 4 * 6);
  std::vector<float> y(2 * 8 * 12);
  kernels::cpu::upsample_nearest(x.data(), 2, 4, 6, nullptr, 8, 12, y.data(), 1);
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 12; ++j) ASSERT_EQ(y[(c * 8 + i) * 12 + j], x[(c * 4 + i / 2) * 6 + j / 2]);
}

TEST(KernelUpsampleNearest, OpChecks) {
  Tensor x = Tensor::zeros({1, 4, 3, 3}), y = Tensor::zeros({1, 4, 6, 6}), a = Tensor::zeros({4, 6, 6});
  EXPECT_NO_THROW(ops::upsample_nearest(x, &a, y, RunContext{1}));
  Tensor bad_c = Tensor::zeros({1, 5, 6, 6}), bad_a = Tensor::zeros({4, 6, 5});
  EXPECT_THROW(ops::upsample_nearest(x, nullptr, bad_c, RunContext{1}), Error);
  EXPECT_THROW(ops::upsample_nearest(x, &bad_a, y, RunContext{1}), Error);
}
