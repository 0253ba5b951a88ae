// sam3.cpp — ConvTranspose2d(k=2, s=2) as sgemm + scatter. With stride = kernel the 2×2 output blocks do not
// overlap, so t[(co,ky,kx), p] = Σ_ci w[ci,(co,ky,kx)] · x[ci,p] is the whole computation; the scatter moves
// t[(co,ky,kx), (iy,ix)] to y[co, 2iy+ky, 2ix+kx] and adds the bias. Bands of input rows bound the buffer.
#include <algorithm>
#include <memory>

#include "core/parallel.h"
#include "kernels/cpu.h"

namespace sam3::kernels::cpu {

namespace {
constexpr int64_t kTmpBudget = int64_t{8} << 20;  // floats in one band of t (32 MB)
}

void conv_transpose2d_k2s2(const float* x, int64_t cin, int64_t h, int64_t w_in, const float* w, int64_t cout,
                           const float* b, float* y, int n_threads) {
  const int64_t m = 4 * cout, hw = h * w_in, wo = 2 * w_in;
  const int64_t band = std::clamp<int64_t>(kTmpBudget / std::max<int64_t>(1, m * w_in), 1, h);
  // Uninitialised: the sgemm (beta = 0) writes every element before the scatter reads it.
  const size_t t_size = static_cast<size_t>(m * band * w_in);
  std::unique_ptr<float[]> t(new float[t_size]);
  for (int64_t r0 = 0; r0 < h; r0 += band) {
    const int64_t nr = std::min(band, h - r0), n = nr * w_in;
    // t[4·Cout, n] = w[Cin, 4·Cout]ᵀ · x[Cin, r0·W : (r0+nr)·W]
    if (cin > 0) sgemm(true, false, m, n, cin, w, m, x + r0 * w_in, hw, t.get(), n, false, n_threads);
    else std::fill(t.get(), t.get() + t_size, 0.0f);
    parallel_for(n_threads, cout * nr, [&](int64_t job) {
      const int64_t co = job / nr, iy = r0 + job % nr;
      const float bias = b ? b[co] : 0.0f;
      for (int64_t ky = 0; ky < 2; ++ky) {
        const float* t0 = t.get() + ((co * 4 + ky * 2 + 0) * nr + (iy - r0)) * w_in;
        const float* t1 = t.get() + ((co * 4 + ky * 2 + 1) * nr + (iy - r0)) * w_in;
        float* yr = y + (co * 2 * h + 2 * iy + ky) * wo;
        for (int64_t ix = 0; ix < w_in; ++ix) {
          yr[2 * ix] = t0[ix] + bias;
          yr[2 * ix + 1] = t1[ix] + bias;
        }
      }
    });
  }
}

}  // namespace sam3::kernels::cpu
