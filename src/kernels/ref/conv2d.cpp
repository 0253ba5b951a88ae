// sam3.cpp — reference 2-D convolution (direct, zero padding, double accumulation).
// ref: torch.nn.functional.conv2d
#include "kernels/ref.h"

namespace sam3::kernels::ref {

void conv2d(const float* x, int64_t cin, int64_t h, int64_t w_in, const float* w, int64_t cout, int64_t kh,
            int64_t kw, const float* b, int stride, int pad, float* y) {
  const int64_t ho = (h + 2 * pad - kh) / stride + 1;
  const int64_t wo = (w_in + 2 * pad - kw) / stride + 1;
  for (int64_t co = 0; co < cout; ++co) {
    for (int64_t oy = 0; oy < ho; ++oy) {
      for (int64_t ox = 0; ox < wo; ++ox) {
        double s = b ? b[co] : 0.0;
        for (int64_t ci = 0; ci < cin; ++ci) {
          for (int64_t ky = 0; ky < kh; ++ky) {
            int64_t iy = oy * stride - pad + ky;
            if (iy < 0 || iy >= h) continue;
            for (int64_t kx = 0; kx < kw; ++kx) {
              int64_t ix = ox * stride - pad + kx;
              if (ix < 0 || ix >= w_in) continue;
              s += static_cast<double>(x[(ci * h + iy) * w_in + ix]) * w[((co * cin + ci) * kh + ky) * kw + kx];
            }
          }
        }
        y[(co * ho + oy) * wo + ox] = static_cast<float>(s);
      }
    }
  }
}

}  // namespace sam3::kernels::ref
