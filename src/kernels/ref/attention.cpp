// sam3.cpp — reference attention: one query at a time, full score row, two-pass softmax in double.
// bf16 products (ops.h): q·scale·log2(e), k and v rounded to bf16, scores in log2 units, and the softmax numerators
// p = 2^(s − max) rounded to bf16 for the P·V sum (max: the row's final max; the optimised kernels round relative
// to their running max, a difference of at most one bf16 rounding per weight); the normaliser sums the unrounded p.
// ref: torch.nn.functional.scaled_dot_product_attention
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/quantize.h"
#include "kernels/ref.h"

namespace sam3::kernels::ref {

namespace {

constexpr double kLog2e = 1.44269504088896340736;

// The operand as the products see it: itself, or its bf16 rounding.
inline double operand(float x, bool bf16) { return bf16 ? round_bf16(x) : x; }

}  // namespace

void attention(const ops::AttentionArgs& a) {
  const double neg_inf = -std::numeric_limits<double>::infinity();
  const bool b16 = a.bf16;
  const float qscale = b16 ? static_cast<float>(a.scale * kLog2e) : a.scale;
  std::vector<double> s(static_cast<size_t>(a.lk));
  std::vector<double> qv(static_cast<size_t>(a.head_dim));
  std::vector<double> acc(static_cast<size_t>(a.head_dim));
  for (int64_t h = 0; h < a.n_heads; ++h) {
    for (int64_t i = 0; i < a.lq; ++i) {
      const float* q = a.q + i * a.q_row + h * a.q_head;
      // f32: the dot product is scaled after the sum; bf16: q·scale·log2 e is rounded, the operand the tiles see.
      for (int64_t d = 0; d < a.head_dim; ++d)
        qv[static_cast<size_t>(d)] = b16 ? operand(q[d] * qscale, true) : static_cast<double>(q[d]);
      double mx = neg_inf;
      for (int64_t j = 0; j < a.lk; ++j) {
        double v = neg_inf;
        if (!(a.key_pad && a.key_pad[j]) && !(a.causal && j > i)) {
          const float* k = a.k + j * a.k_row + h * a.k_head;
          double dot = 0;
          for (int64_t d = 0; d < a.head_dim; ++d) dot += qv[static_cast<size_t>(d)] * operand(k[d], b16);
          v = b16 ? dot : dot * a.scale;
          if (a.bias) v += a.bias[h * a.bias_head + i * a.lk + j] * (b16 ? kLog2e : 1.0);
        }
        s[static_cast<size_t>(j)] = v;
        if (v > mx) mx = v;
      }
      for (auto& x : acc) x = 0;
      double den = 0;
      if (mx != neg_inf) {
        for (int64_t j = 0; j < a.lk; ++j) {
          const double p = b16 ? std::exp2(s[static_cast<size_t>(j)] - mx) : std::exp(s[static_cast<size_t>(j)] - mx);
          den += p;
          const double pw = b16 ? operand(static_cast<float>(p), true) : p;
          const float* v = a.v + j * a.v_row + h * a.v_head;
          for (int64_t d = 0; d < a.head_dim; ++d) acc[static_cast<size_t>(d)] += pw * operand(v[d], b16);
        }
      }
      float* o = a.out + i * a.o_row + h * a.o_head;
      for (int64_t d = 0; d < a.head_dim; ++d) o[d] = den > 0 ? static_cast<float>(acc[static_cast<size_t>(d)] / den) : 0.0f;
    }
  }
}

}  // namespace sam3::kernels::ref
