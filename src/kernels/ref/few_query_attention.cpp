// sam3.cpp — reference few-query attention: K = x·wkᵀ + k_add and V = x·wvᵀ + bv formed in double, then softmax
// attention per head in double.
// ref: sam3/sam/transformer.py (Attention.forward: k_proj, v_proj, _separate_heads, softmax, out)
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/ref.h"

namespace sam3::kernels::ref {

void few_query_attention(const ops::FewQueryAttentionArgs& a) {
  const int64_t I = a.internal, hd = I / a.n_heads;
  std::vector<double> K(static_cast<size_t>(a.lk * I)), V(K.size());
  for (int64_t j = 0; j < a.lk; ++j)
    for (int64_t i = 0; i < I; ++i) {
      double k = a.k_add[j * a.k_add_row + i], v = a.bv[i];
      for (int64_t c = 0; c < a.c; ++c) {
        const double xv = a.x[j * a.x_row + c];
        k += xv * a.wk[i * a.c + c];
        v += xv * a.wv[i * a.c + c];
      }
      K[static_cast<size_t>(j * I + i)] = k;
      V[static_cast<size_t>(j * I + i)] = v;
    }
  std::vector<double> s(static_cast<size_t>(a.lk));
  for (int64_t h = 0; h < a.n_heads; ++h)
    for (int64_t t = 0; t < a.lq; ++t) {
      double mx = -INFINITY;
      for (int64_t j = 0; j < a.lk; ++j) {
        double d = 0;
        for (int64_t e = 0; e < hd; ++e) d += static_cast<double>(a.q[t * I + h * hd + e]) * K[static_cast<size_t>(j * I + h * hd + e)];
        s[static_cast<size_t>(j)] = d * a.scale;
        mx = std::max(mx, s[static_cast<size_t>(j)]);
      }
      double sum = 0;
      for (double& v : s) sum += (v = std::exp(v - mx));
      for (int64_t e = 0; e < hd; ++e) {
        double o = 0;
        for (int64_t j = 0; j < a.lk; ++j) o += s[static_cast<size_t>(j)] * V[static_cast<size_t>(j * I + h * hd + e)];
        a.out[t * I + h * hd + e] = static_cast<float>(o / sum);
      }
    }
}

}  // namespace sam3::kernels::ref
