// sam3.cpp — reference 2×2 stride-2 max pooling (floor; NaN propagates like torch).
// ref: torch.nn.MaxPool2d(kernel_size=2, stride=2)
#include <cmath>

#include "kernels/ref.h"

namespace sam3::kernels::ref {

void max_pool2d_k2s2(const float* x, int64_t c, int64_t h, int64_t w_in, float* y) {
  const int64_t ho = h / 2, wo = w_in / 2;
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int64_t oy = 0; oy < ho; ++oy) {
      for (int64_t ox = 0; ox < wo; ++ox) {
        const float* p = x + (ch * h + 2 * oy) * w_in + 2 * ox;
        float v[4] = {p[0], p[1], p[w_in], p[w_in + 1]};
        float m = v[0];
        for (float e : v) {
          if (std::isnan(e) || e > m) m = e;
          if (std::isnan(m)) break;
        }
        y[(ch * ho + oy) * wo + ox] = m;
      }
    }
  }
}

}  // namespace sam3::kernels::ref
