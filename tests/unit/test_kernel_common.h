// sam3.cpp — helpers for the kernel unit tests (tests/unit/test_kernel_*.cpp): seeded random data and an
// element-wise comparison against a per-element tolerance.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace sam3::test {

constexpr double kEps = std::numeric_limits<float>::epsilon();  // 2^-23 ≈ 1.19e-7

inline std::vector<float> random_vec(std::mt19937& g, int64_t n, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = u(g);
  return v;
}

inline std::vector<float> abs_vec(const std::vector<float>& v) {
  std::vector<float> a(v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = std::fabs(v[i]);
  return a;
}

// Passes iff |got[i] - want[i]| <= tol[i] for all i (tol has one entry per element, or a single entry for all).
// On failure reports the worst element relative to its tolerance.
inline ::testing::AssertionResult within(const std::vector<float>& got, const std::vector<float>& want,
                                         const std::vector<double>& tol, const std::string& what) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << what << ": size mismatch";
  double worst = 0;
  size_t wi = 0;
  int64_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double t = tol.size() == 1 ? tol[0] : tol[i];
    const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
    const double r = d / t;
    if (!(d <= t)) ++bad;
    if (!(r <= worst)) {
      worst = r;
      wi = i;
      if (std::isnan(r)) break;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  const double t = tol.size() == 1 ? tol[0] : tol[wi];
  return ::testing::AssertionFailure() << what << ": " << bad << " of " << got.size() << " elements out of tolerance;"
                                       << " worst at " << wi << ": got " << got[wi] << ", want " << want[wi]
                                       << ", |diff| " << std::fabs(static_cast<double>(got[wi]) - want[wi])
                                       << " > tol " << t;
}

// Tolerance of an f32 dot product of length K whose |terms| sum to `abs_sum` (Σ|x_k·w_k|): every partial sum is
// at most abs_sum and each addition rounds by ≤ eps/2 of it; with random rounding signs the K errors add like a
// random walk, ≈ sqrt(K)·eps/2·abs_sum. We allow 4× that (2·sqrt(K)·eps·abs_sum) plus a few ulp of the result for
// the final rounding and the bias add (2·eps·abs_sum). Blocked sgemm orders are no worse than sequential.
inline double dot_tol(int64_t K, double abs_sum) {
  return (2.0 * std::sqrt(static_cast<double>(K > 1 ? K : 1)) + 2.0) * kEps * abs_sum + 1e-37;
}

}  // namespace sam3::test
