// sam3.cpp — reference transposed convolution, kernel 2 stride 2 (no overlap: each output pixel has one source).
// ref: torch.nn.ConvTranspose2d(kernel_size=2, stride=2)
#include "kernels/ref.h"

namespace sam3::kernels::ref {

void conv_transpose2d_k2s2(const float* x, int64_t cin, int64_t h, int64_t w_in, const float* w, int64_t cout,
                           const float* b, float* y) {
  const int64_t ho = 2 * h, wo = 2 * w_in;
  for (int64_t co = 0; co < cout; ++co) {
    for (int64_t oy = 0; oy < ho; ++oy) {
      for (int64_t ox = 0; ox < wo; ++ox) {
        int64_t iy = oy / 2, ix = ox / 2, ky = oy % 2, kx = ox % 2;
        double s = b ? b[co] : 0.0;
        for (int64_t ci = 0; ci < cin; ++ci)
          s += static_cast<double>(x[(ci * h + iy) * w_in + ix]) * w[((ci * cout + co) * 2 + ky) * 2 + kx];
        y[(co * ho + oy) * wo + ox] = static_cast<float>(s);
      }
    }
  }
}

}  // namespace sam3::kernels::ref
