// Unit tests: CPU add / ReLU / max_pool2d_k2s2 against the reference. These are exact operations (one rounding
// for add, none for relu and max), so the CPU result must equal the reference bit for bit.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"
#include "test_kernel_common.h"

using namespace sam3;
using namespace sam3::test;

TEST(KernelElementwise, AddAndReluExact) {
  std::mt19937 g(1);
  for (int64_t n : {0, 1, 7, 8, 9, 31, 16384, 16385, 100003}) {
    for (int threads : {1, 2}) {
      auto a = random_vec(g, n), b = random_vec(g, n);
      std::vector<float> got(a.size()), want(a.size());
      kernels::cpu::add(a.data(), b.data(), got.data(), n, threads);
      kernels::ref::add(a.data(), b.data(), want.data(), n);
      EXPECT_EQ(got, want) << "add n=" << n;
      got = a;
      want = a;
      kernels::cpu::relu(got.data(), n, threads);
      kernels::ref::relu(want.data(), n);
      EXPECT_EQ(got, want) << "relu n=" << n;
    }
  }
}

TEST(KernelElementwise, OpsAliasAndChecks) {
  Tensor a = Tensor::empty({3, 5}), b = Tensor::empty({3, 5}), c = Tensor::empty({15});
  for (int i = 0; i < 15; ++i) a.f32()[i] = static_cast<float>(i) - 7.0f, b.f32()[i] = 0.5f;
  ops::add(a, b, a, RunContext{2});  // y aliases a
  EXPECT_EQ(a.f32()[0], -6.5f);
  ops::relu_inplace(a, RunContext{2});
  EXPECT_EQ(a.f32()[0], 0.0f);
  EXPECT_EQ(a.f32()[14], 7.5f);
  EXPECT_THROW(ops::add(a, c, a, RunContext{1}), Error);
  Tensor n = Tensor::empty({9});
  for (int i = 0; i < 9; ++i) n.f32()[i] = NAN;
  ops::relu_inplace(n, RunContext{1});
  for (int i = 0; i < 9; ++i) EXPECT_TRUE(std::isnan(n.f32()[i]));  // like torch.relu
}

TEST(KernelMaxPool, OddSizesAndNaN) {
  std::mt19937 g(2);
  for (int64_t c : {1, 3})
    for (int64_t h : {2, 3, 7, 16})
      for (int64_t w : {2, 5, 9, 72}) {
        auto x = random_vec(g, c * h * w);
        if (x.size() > 5) x[5] = NAN;
        std::vector<float> got(static_cast<size_t>(c * (h / 2) * (w / 2))), want(got.size());
        kernels::cpu::max_pool2d_k2s2(x.data(), c, h, w, got.data(), 2);
        kernels::ref::max_pool2d_k2s2(x.data(), c, h, w, want.data());
        for (size_t i = 0; i < got.size(); ++i) {
          if (std::isnan(want[i])) EXPECT_TRUE(std::isnan(got[i]));
          else EXPECT_EQ(got[i], want[i]) << c << "x" << h << "x" << w << " at " << i;
        }
      }
  Tensor x = Tensor::zeros({1, 4, 7, 9}), y = Tensor::empty({4, 3, 4}), bad = Tensor::empty({4, 3, 5});
  ops::max_pool2d_k2s2(x, y, RunContext{1});
  EXPECT_THROW(ops::max_pool2d_k2s2(x, bad, RunContext{1}), Error);
}
