// sam3.cpp — reference attention: one query at a time, full score row, two-pass softmax in double.
// ref: torch.nn.functional.scaled_dot_product_attention
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/ref.h"

namespace sam3::kernels::ref {

void attention(const ops::AttentionArgs& a) {
  const double neg_inf = -std::numeric_limits<double>::infinity();
  std::vector<double> s(static_cast<size_t>(a.lk));
  std::vector<double> acc(static_cast<size_t>(a.head_dim));
  for (int64_t h = 0; h < a.n_heads; ++h) {
    for (int64_t i = 0; i < a.lq; ++i) {
      const float* q = a.q + i * a.q_row + h * a.q_head;
      double mx = neg_inf;
      for (int64_t j = 0; j < a.lk; ++j) {
        double v = neg_inf;
        if (!(a.key_pad && a.key_pad[j]) && !(a.causal && j > i)) {
          const float* k = a.k + j * a.k_row + h * a.k_head;
          double dot = 0;
          for (int64_t d = 0; d < a.head_dim; ++d) dot += static_cast<double>(q[d]) * k[d];
          v = dot * a.scale;
          if (a.bias) v += a.bias[h * a.bias_head + i * a.lk + j];
        }
        s[static_cast<size_t>(j)] = v;
        if (v > mx) mx = v;
      }
      for (auto& x : acc) x = 0;
      double den = 0;
      if (mx != neg_inf) {
        for (int64_t j = 0; j < a.lk; ++j) {
          double p = std::exp(s[static_cast<size_t>(j)] - mx);
          den += p;
          const float* v = a.v + j * a.v_row + h * a.v_head;
          for (int64_t d = 0; d < a.head_dim; ++d) acc[static_cast<size_t>(d)] += p * v[d];
        }
      }
      float* o = a.out + i * a.o_row + h * a.o_head;
      for (int64_t d = 0; d < a.head_dim; ++d) o[d] = den > 0 ? static_cast<float>(acc[static_cast<size_t>(d)] / den) : 0.0f;
    }
  }
}

}  // namespace sam3::kernels::ref
