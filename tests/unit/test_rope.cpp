// Unit tests for ops::rope: the CPU kernel against the reference on random shapes and strided layouts, plus a
// direct check of the rotation and of the argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"

using namespace sam3;

namespace {

std::vector<float> random_vec(size_t n, std::mt19937& g) {
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

std::vector<float> random_table(int64_t rows, int64_t half, std::mt19937& g) {
  std::uniform_real_distribution<float> d(-10.f, 10.f);
  std::vector<float> t(static_cast<size_t>(rows * half * 2));
  for (int64_t i = 0; i < rows * half; ++i) {
    const float a = d(g);
    t[static_cast<size_t>(2 * i)] = std::cos(a);
    t[static_cast<size_t>(2 * i + 1)] = std::sin(a);
  }
  return t;
}

}  // namespace

// The optimised kernel must equal the reference to rounding: both compute re·c − im·s and re·s + im·c in f32
// (the AVX2 path with separate multiplies and one add/sub, like the scalar code), so allow 2 ulp of O(1) values.
TEST(Rope, CpuMatchesReferenceOnPackedLayouts) {
  std::mt19937 g(7);
  struct Case { int64_t rows, heads, head_dim, table_rows; bool use_pos; int threads; };
  const Case cases[] = {{36, 4, 16, 36, false, 1}, {37, 3, 10, 5, true, 2}, {324, 4, 16, 324, true, 2},
                        {100, 16, 64, 36, false, 2}, {9, 1, 2, 9, true, 1}, {50, 2, 6, 7, false, 3}};
  for (const Case& c : cases) {
    const int64_t C = c.heads * c.head_dim;
    const int64_t row = 3 * C;  // packed (L, 3, heads, head_dim): rotate the q part (offset 0) and the k part (C)
    std::vector<float> base = random_vec(static_cast<size_t>(c.rows * row), g);
    std::vector<float> table = random_table(c.table_rows, c.head_dim / 2, g);
    std::vector<int32_t> pos(static_cast<size_t>(c.rows));
    std::uniform_int_distribution<int32_t> pd(0, static_cast<int32_t>(c.table_rows - 1));
    for (int32_t& p : pos) p = pd(g);
    for (int64_t part = 0; part < 2; ++part) {
      std::vector<float> a = base, b = base;
      ops::RopeArgs args;
      args.row = row;
      args.head = c.head_dim;
      args.n_rows = c.rows;
      args.n_heads = c.heads;
      args.head_dim = c.head_dim;
      args.table = table.data();
      args.table_rows = c.table_rows;
      args.pos = c.use_pos ? pos.data() : nullptr;
      args.x = a.data() + part * C;
      kernels::ref::rope(args);
      args.x = b.data() + part * C;
      ops::rope(args, RunContext{c.threads});
      for (size_t i = 0; i < a.size(); ++i) {
        ASSERT_NEAR(a[i], b[i], 2.5e-7 * (1 + std::fabs(a[i]))) << "element " << i << " rows " << c.rows;
      }
      // Untouched parts stay untouched.
      for (int64_t r = 0; r < c.rows; ++r) {
        for (int64_t k = 0; k < row; ++k) {
          if (k / C == part) continue;
          ASSERT_EQ(b[static_cast<size_t>(r * row + k)], base[static_cast<size_t>(r * row + k)]);
        }
      }
    }
  }
}

// The reference is the complex product z·e^{iθ} on adjacent (re, im) pairs.
TEST(Rope, ReferenceIsComplexRotationOfAdjacentPairs) {
  const int64_t hd = 8, half = 4, rows = 3;
  std::vector<float> x(rows * hd), table(rows * half * 2);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.25f * static_cast<float>(i) - 1.f;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < half; ++j) {
      table[static_cast<size_t>((r * half + j) * 2)] = std::cos(0.3f * static_cast<float>(r + j));
      table[static_cast<size_t>((r * half + j) * 2 + 1)] = std::sin(0.3f * static_cast<float>(r + j));
    }
  std::vector<float> y = x;
  ops::RopeArgs a;
  a.x = y.data();
  a.row = hd;
  a.head = hd;
  a.n_rows = rows;
  a.n_heads = 1;
  a.head_dim = hd;
  a.table = table.data();
  a.table_rows = rows;
  ops::rope(a, RunContext{1});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < half; ++j) {
      std::complex<double> z(x[r * hd + 2 * j], x[r * hd + 2 * j + 1]);
      std::complex<double> w(table[(r * half + j) * 2], table[(r * half + j) * 2 + 1]);
      std::complex<double> e = z * w;
      EXPECT_NEAR(y[r * hd + 2 * j], e.real(), 1e-6);
      EXPECT_NEAR(y[r * hd + 2 * j + 1], e.imag(), 1e-6);
    }
}

TEST(Rope, RejectsBadArguments) {
  std::vector<float> x(64), table(16);
  ops::RopeArgs a;
  a.x = x.data();
  a.row = 8;
  a.head = 8;
  a.n_rows = 4;
  a.n_heads = 1;
  a.head_dim = 8;
  a.table = table.data();
  a.table_rows = 4;
  a.head_dim = 7;
  EXPECT_THROW(ops::rope(a, RunContext{1}), Error);  // odd head_dim
  a.head_dim = 8;
  std::vector<int32_t> pos = {0, 1, 2, 4};
  a.pos = pos.data();
  EXPECT_THROW(ops::rope(a, RunContext{1}), Error);  // pos outside the table
  a.pos = nullptr;
  a.row = 4;
  EXPECT_THROW(ops::rope(a, RunContext{1}), Error);  // overlapping rows
}
