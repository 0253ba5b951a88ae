// Unit tests: the CPU linear kernel (oneDNN on AVX-512, else OpenBLAS sgemm + bias) against the reference, each row's
// result the same bits whatever the row and thread counts, and ops::linear's checks. It runs again with oneDNN capped
// to AVX2 (tests/CMakeLists.txt), which takes the OpenBLAS path on an AVX-512 CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
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

// Runs cpu::linear and ref::linear on random data; the tolerance per output is dot_tol(K+1, Σ|x||w| + |b|),
// computed by running the reference on absolute values.
void check_linear(int64_t M, int64_t N, int64_t K, bool bias, int threads, uint32_t seed) {
  std::mt19937 g(seed);
  auto x = random_vec(g, M * K), w = random_vec(g, N * K), b = random_vec(g, N);
  std::vector<float> got(static_cast<size_t>(M * N), NAN), want(got.size()), mag(got.size());
  kernels::cpu::linear(x.data(), w.data(), bias ? b.data() : nullptr, got.data(), M, N, K, threads);
  kernels::ref::linear(x.data(), w.data(), bias ? b.data() : nullptr, want.data(), M, N, K);
  auto ax = abs_vec(x), aw = abs_vec(w), ab = abs_vec(b);
  kernels::ref::linear(ax.data(), aw.data(), bias ? ab.data() : nullptr, mag.data(), M, N, K);
  std::vector<double> tol(mag.size());
  for (size_t i = 0; i < mag.size(); ++i) tol[i] = dot_tol(K + 1, mag[i]);
  EXPECT_TRUE(within(got, want, tol, "linear M=" + std::to_string(M) + " N=" + std::to_string(N) +
                                         " K=" + std::to_string(K) + (bias ? " +b" : "") +
                                         " threads=" + std::to_string(threads)));
}

}  // namespace

TEST(KernelLinear, AwkwardShapes) {
  uint32_t seed = 1;
  for (int64_t M : {1, 2, 7, 31, 64, 129})
    for (int64_t N : {1, 3, 8, 17, 96})
      for (int64_t K : {1, 5, 16, 67, 256})
        for (bool bias : {false, true}) {
          check_linear(M, N, K, bias, static_cast<int>(seed % 2) + 1, seed);
          ++seed;
        }
}

TEST(KernelLinear, LargerShapes) {
  check_linear(577, 1024, 256, true, 2, 11);
  check_linear(1000, 67, 1031, false, 2, 12);
  check_linear(33, 4096, 1024, true, 1, 13);
}

// Batched prompts must give what each prompt gives alone, bit for bit (tests/module/test_pipeline.cpp,
// SeveralPromptsInOneCall), and results must not depend on --threads: so a row of y must not depend on how many
// rows the product has nor on the thread count. Measured to hold for oneDNN's AVX-512 brgemm kernels on every
// product, and for OpenBLAS on products of 2^21 multiply-adds or more (below that it takes other kernels: on an Ice
// Lake Xeon 1, 2 and 7 rows of 256x256, one row of 256x2048, 32 rows of 17x67 gave other bits); not for oneDNN's
// AVX2 gemm (why f32 runs on oneDNN only on AVX-512: onednn_f32). The model's batched products have
// thousands of rows (tokens x prompts).
TEST(KernelLinear, RowsAreTheSameBitsWhateverRowsAndThreads) {
  const bool onednn = kernels::cpu::onednn_f32();
  std::printf("f32 linear on %s\n", onednn ? ("oneDNN (" + kernels::cpu::onednn_isa_name() + ")").c_str() : "OpenBLAS");
  const int64_t rows = 640, openblas_min_product = int64_t{1} << 21;
  struct Shape {
    int64_t n, k;
  };
  uint32_t seed = 40;
  for (const Shape s : {Shape{256, 256}, Shape{2048, 256}, Shape{256, 2048}, Shape{1024, 1024}, Shape{3072, 1024},
                        Shape{1024, 4736}, Shape{17, 67}}) {
    for (bool bias : {true, false}) {
      std::mt19937 g(seed++);
      auto x = random_vec(g, rows * s.k), w = random_vec(g, s.n * s.k), b = random_vec(g, s.n);
      const float* bp = bias ? b.data() : nullptr;
      std::vector<float> all(static_cast<size_t>(rows * s.n));
      kernels::cpu::linear(x.data(), w.data(), bp, all.data(), rows, s.n, s.k, 2);
      for (int64_t m : {int64_t{1}, int64_t{2}, int64_t{7}, int64_t{32}, int64_t{201}, rows - 1})
        for (int threads : {1, 2, 3}) {
          if (!onednn && m * s.n * s.k < openblas_min_product) continue;
          std::vector<float> part(static_cast<size_t>(m * s.n), NAN);
          kernels::cpu::linear(x.data(), w.data(), bp, part.data(), m, s.n, s.k, threads);
          EXPECT_EQ(std::memcmp(part.data(), all.data(), part.size() * sizeof(float)), 0)
              << "N=" << s.n << " K=" << s.k << (bias ? " +b" : "") << ": the first " << m << " of " << rows
              << " rows on " << threads << " threads differ from the whole product's";
          // linear_add onto zeros is the same product accumulated (the same bits again, in place).
          std::fill(part.begin(), part.end(), 0.0f);
          kernels::cpu::linear_add(x.data(), w.data(), part.data(), part.data(), m, s.n, s.k, threads);
          if (!bias) {
            EXPECT_EQ(std::memcmp(part.data(), all.data(), part.size() * sizeof(float)), 0)
                << "linear_add N=" << s.n << " K=" << s.k << " rows " << m << " threads " << threads;
          }
        }
    }
  }
}

TEST(KernelLinear, OpLeadingDimsAndChecks) {
  std::mt19937 g(3);
  auto xv = random_vec(g, 2 * 5 * 7), wv = random_vec(g, 3 * 7), bv = random_vec(g, 3);
  Tensor x = Tensor::borrow(xv.data(), {2, 5, 7}, DType::F32), w = Tensor::borrow(wv.data(), {3, 7}, DType::F32);
  Tensor b = Tensor::borrow(bv.data(), {3}, DType::F32);
  Tensor y = Tensor::empty({2, 5, 3});
  ops::linear(x, w, &b, y, RunContext{2});
  std::vector<float> want(30), got(y.f32(), y.f32() + 30);
  kernels::ref::linear(xv.data(), wv.data(), bv.data(), want.data(), 10, 3, 7);
  EXPECT_TRUE(within(got, want, {dot_tol(8, 8.0)}, "ops::linear"));
  Tensor undefined;
  ops::linear(x, w, &undefined, y, RunContext{1});  // an undefined bias means none
  kernels::ref::linear(xv.data(), wv.data(), nullptr, want.data(), 10, 3, 7);
  EXPECT_TRUE(within(std::vector<float>(y.f32(), y.f32() + 30), want, {dot_tol(8, 8.0)}, "ops::linear no bias"));

  Tensor bad_w = Tensor::empty({3, 6}), bad_b = Tensor::empty({4}), bad_y = Tensor::empty({10, 4});
  EXPECT_THROW(ops::linear(x, bad_w, nullptr, y, RunContext{1}), Error);
  EXPECT_THROW(ops::linear(x, w, &bad_b, y, RunContext{1}), Error);
  EXPECT_THROW(ops::linear(x, w, nullptr, bad_y, RunContext{1}), Error);
  EXPECT_THROW(ops::linear(x, w, nullptr, x, RunContext{1}), Error);  // y overlaps x
  Tensor xi = Tensor::empty({2, 7}, DType::I32), y2 = Tensor::empty({2, 3});
  EXPECT_THROW(ops::linear(xi, w, nullptr, y2, RunContext{1}), Error);
}
