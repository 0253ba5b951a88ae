// Unit tests: few-query attention (the keys and values never formed) against its reference twin (K and V formed in
// double, plain softmax), at awkward shapes and at SAM's token -> image shape, with strided x / k_add rows; and
// the op's checks.
// Tolerance per output: the scores carry dot_tol over their C + I terms of magnitude; a score error δ moves the
// softmax weights by ~δ relative, so the output moves by ≲ 2δ·max|V| plus the value sums' own dot_tol; we allow
// 4× that, from magnitudes computed on |inputs|.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"
#include "test_kernel_common.h"

using namespace sam3;
using namespace sam3::test;

namespace {

void check(int64_t lq, int64_t lk, int64_t C, int64_t I, int64_t heads, int64_t x_pad, int64_t k_pad, int threads,
           uint32_t seed) {
  std::mt19937 g(seed);
  const int64_t x_row = C + x_pad, k_row = I + k_pad, hd = I / heads;
  auto q = random_vec(g, lq * I), x = random_vec(g, lk * x_row), ka = random_vec(g, lk * k_row),
       wk = random_vec(g, I * C, -0.3f, 0.3f), wv = random_vec(g, I * C), bv = random_vec(g, I);
  ops::FewQueryAttentionArgs a;
  a.q = q.data();
  a.x = x.data();
  a.k_add = ka.data();
  a.wk = wk.data();
  a.wv = wv.data();
  a.bv = bv.data();
  a.lq = lq;
  a.lk = lk;
  a.c = C;
  a.internal = I;
  a.n_heads = heads;
  a.x_row = x_row;
  a.k_add_row = k_row;
  a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  std::vector<float> got(static_cast<size_t>(lq * I), NAN), want(got.size());
  a.out = got.data();
  kernels::cpu::few_query_attention(a, threads);
  a.out = want.data();
  kernels::ref::few_query_attention(a);
  // Magnitudes: max score magnitude per (head, query) and max |V| per column.
  double vmax = 0, kmax = 0;
  for (int64_t j = 0; j < lk; ++j)
    for (int64_t i = 0; i < I; ++i) {
      double sv = std::fabs(bv[static_cast<size_t>(i)]), sk = std::fabs(ka[static_cast<size_t>(j * k_row + i)]);
      for (int64_t c = 0; c < C; ++c) {
        sv += std::fabs(x[static_cast<size_t>(j * x_row + c)] * wv[static_cast<size_t>(i * C + c)]);
        sk += std::fabs(x[static_cast<size_t>(j * x_row + c)] * wk[static_cast<size_t>(i * C + c)]);
      }
      vmax = std::max(vmax, sv);
      kmax = std::max(kmax, sk);
    }
  double qmax = 0;
  for (float v : q) qmax = std::max(qmax, static_cast<double>(std::fabs(v)));
  const double score_mag = a.scale * static_cast<double>(hd) * qmax * kmax;
  const double delta = dot_tol(C + I + hd, score_mag) + 2 * kEps * score_mag;
  const double tol = 4 * (2 * delta * vmax + dot_tol(lk + C, vmax));
  EXPECT_TRUE(within(got, want, {tol}, "few_query_attention lq=" + std::to_string(lq) + " lk=" + std::to_string(lk) +
                                           " C=" + std::to_string(C) + " I=" + std::to_string(I) +
                                           " heads=" + std::to_string(heads)));
}

}  // namespace

TEST(KernelFewQueryAttention, AwkwardShapes) {
  uint32_t seed = 1;
  for (int64_t lq : {1, 3, 8})
    for (int64_t lk : {1, 7, 130})
      for (auto [C, I, heads] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {9, 6, 2}, {32, 16, 8}, {17, 24, 3}}) {
        check(lq, lk, C, I, heads, seed % 3, (seed + 1) % 2 * 5, static_cast<int>(seed % 2) + 1, seed);
        ++seed;
      }
}

TEST(KernelFewQueryAttention, SamTokenToImageShape) {
  check(8, 5184, 256, 128, 8, 0, 0, 2, 90);  // 6 output tokens + a click and its padding over the 72 x 72 grid
  check(7, 1200, 64, 32, 8, 0, 0, 1, 91);    // the tiny model's size
}

TEST(KernelFewQueryAttention, OpChecks) {
  std::vector<float> q(2 * 4, 0.1f), x(5 * 3, 0.2f), ka(5 * 4, 0.3f), wk(4 * 3, 0.1f), wv(4 * 3, 0.1f), bv(4, 0.0f),
      out(2 * 4);
  ops::FewQueryAttentionArgs a;
  a.q = q.data();
  a.x = x.data();
  a.k_add = ka.data();
  a.wk = wk.data();
  a.wv = wv.data();
  a.bv = bv.data();
  a.out = out.data();
  a.lq = 2;
  a.lk = 5;
  a.c = 3;
  a.internal = 4;
  a.n_heads = 2;
  a.x_row = 3;
  a.k_add_row = 4;
  ops::few_query_attention(a, RunContext{2});
  for (float v : out) EXPECT_NEAR(v, 0.06f, 1e-6);  // all values equal: V = 3 · 0.2 · 0.1
  ops::FewQueryAttentionArgs bad = a;
  bad.n_heads = 3;  // 4 is not split into 3 heads
  EXPECT_THROW(ops::few_query_attention(bad, RunContext{1}), Error);
  bad = a;
  bad.x_row = 2;
  EXPECT_THROW(ops::few_query_attention(bad, RunContext{1}), Error);
  bad = a;
  bad.wv = nullptr;
  EXPECT_THROW(ops::few_query_attention(bad, RunContext{1}), Error);
  bad = a;
  bad.out = q.data();
  EXPECT_THROW(ops::few_query_attention(bad, RunContext{1}), Error);
}
