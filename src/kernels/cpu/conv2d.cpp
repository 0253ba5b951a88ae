// sam3.cpp — conv2d as im2col + sgemm, in bands of output rows so the column buffer stays bounded
// (a 3×3, 256-channel conv at 288×288 would need 764 MB of columns at once). 1×1 stride-1 unpadded convs are a
// single sgemm on the input itself. The others run on oneDNN's convolution where onednn_f32() (conv2d_onednn.cpp).
#include <algorithm>
#include <cstring>
#include <memory>

#include "core/parallel.h"
#include "kernels/cpu.h"
#include "kernels/cpu/onednn_matmul.h"

namespace sam3::kernels::cpu {

namespace {
constexpr int64_t kColBudget = int64_t{8} << 20;  // floats in one column band (32 MB)
}

void conv2d(const float* x, int64_t cin, int64_t h, int64_t w_in, const float* w, int64_t cout, int64_t kh,
            int64_t kw, const float* b, int stride, int pad, float* y, int n_threads) {
  const int64_t ho = (h + 2 * pad - kh) / stride + 1;
  const int64_t wo = (w_in + 2 * pad - kw) / stride + 1;
  const int64_t hw = ho * wo, kdim = cin * kh * kw;
  const bool pointwise = kh == 1 && kw == 1 && stride == 1 && pad == 0;
  if (!pointwise && kdim > 0 && hw > 0 && onednn_f32() &&
      onednn_conv2d_f32(x, cin, h, w_in, w, cout, kh, kw, b, stride, pad, y, n_threads))
    return;
  // y[Cout, Ho·Wo] starts as the bias (or zero); the product accumulates onto it.
  parallel_for(n_threads, cout, [&](int64_t co) {
    float* yr = y + co * hw;
    if (b) std::fill(yr, yr + hw, b[co]);
    else std::memset(yr, 0, static_cast<size_t>(hw) * sizeof(float));
  });
  if (kdim == 0) return;
  if (pointwise) {
    // y[Cout, HW] += w[Cout, Cin] · x[Cin, HW]
    sgemm(false, false, cout, hw, cin, w, cin, x, hw, y, hw, true, n_threads);
    return;
  }
  const int64_t band = std::clamp<int64_t>(kColBudget / std::max<int64_t>(1, kdim * wo), 1, ho);
  // Uninitialised (every element is written by im2col before the sgemm reads it): no zero-fill pass.
  std::unique_ptr<float[]> col(new float[static_cast<size_t>(kdim * band * wo)]);
  for (int64_t r0 = 0; r0 < ho; r0 += band) {
    const int64_t nr = std::min(band, ho - r0), ncol = nr * wo;
    // col[(ci,ky,kx), (oy-r0)·Wo + ox] = x[ci, oy·s - pad + ky, ox·s - pad + kx] (0 outside)
    parallel_for(n_threads, kdim, [&](int64_t kr) {
      const int64_t ci = kr / (kh * kw), ky = (kr / kw) % kh, kx = kr % kw;
      float* dst = col.get() + kr * ncol;
      for (int64_t oy = r0; oy < r0 + nr; ++oy) {
        const int64_t iy = oy * stride - pad + ky;
        float* d = dst + (oy - r0) * wo;
        if (iy < 0 || iy >= h) {
          std::memset(d, 0, static_cast<size_t>(wo) * sizeof(float));
          continue;
        }
        // Valid outputs ox: 0 ≤ ox·stride - pad + kx < W, a contiguous range [lo, hi); zeros outside it.
        const float* src = x + (ci * h + iy) * w_in + kx - pad;
        const int64_t lo = std::min(wo, std::max<int64_t>(0, (pad - kx + stride - 1) / stride));
        const int64_t hi = std::max(lo, std::min(wo, (w_in + pad - kx + stride - 1) / stride));
        std::fill(d, d + lo, 0.0f);
        if (stride == 1) {
          std::memcpy(d + lo, src + lo, static_cast<size_t>(hi - lo) * sizeof(float));
        } else {
          for (int64_t ox = lo; ox < hi; ++ox) d[ox] = src[ox * stride];
        }
        std::fill(d + hi, d + wo, 0.0f);
      }
    });
    // y[:, band] += w[Cout, kdim] · col[kdim, ncol]
    sgemm(false, false, cout, ncol, kdim, w, kdim, col.get(), ncol, y + r0 * wo, hw, true, n_threads);
  }
}

}  // namespace sam3::kernels::cpu
