// sam3.cpp — SAM's mask-decoder upscaling steps, each a transposed convolution k2 s2 (sgemm, as
// conv_transpose2d.cpp) whose scatter also does what follows it, one output row at a time while the row is in cache:
//   deconv_ln_gelu:      + bias + addend, LayerNorm2d over the channels of each pixel, GELU (reads token-major x, so
//                        the transformer's keys need no transpose);
//   deconv_gelu_project: + bias + addend, GELU, then the projection onto M vectors (the hypernetwork outputs), so
//                        the [Cout, 2H, 2W] map is never written.
// ref: sam3/sam/mask_decoder.py (MaskDecoder.predict_masks), sam3/sam/common.py (LayerNorm2d)
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "core/parallel.h"
#include "kernels/cpu.h"

namespace sam3::kernels::cpu {

namespace {

constexpr int64_t kTmpBudget = int64_t{8} << 20;  // floats in one band of t (32 MB)

int64_t band_rows(int64_t m, int64_t h, int64_t w_in) {
  return std::clamp<int64_t>(kTmpBudget / std::max<int64_t>(1, m * w_in), 1, h);
}

// out[x] = t(kx = x % 2)[x / 2] + bias + add[x] for x < 2·w_in: one output row of channel co from its two t rows.
void scatter_row(const float* t0, const float* t1, float bias, const float* add, float* out, int64_t w_in) {
  for (int64_t ix = 0; ix < w_in; ++ix) {
    out[2 * ix] = t0[ix] + bias + add[2 * ix];
    out[2 * ix + 1] = t1[ix] + bias + add[2 * ix + 1];
  }
}

}  // namespace

void deconv_ln_gelu(const float* x, int64_t h, int64_t w_in, int64_t cin, const float* w, int64_t cout, const float* b,
                    const float* addend, const float* gamma, const float* beta, float eps, float* y, int n_threads) {
  const int64_t m = 4 * cout, ho = 2 * h, wo = 2 * w_in, band = band_rows(m, h, w_in);
  std::unique_ptr<float[]> t(new float[static_cast<size_t>(m * band * w_in)]);
  for (int64_t r0 = 0; r0 < h; r0 += band) {
    const int64_t nr = std::min(band, h - r0), n = nr * w_in;
    // t[4·Cout, n] = w[Cin, 4·Cout]ᵀ · x[r0·W : (r0+nr)·W, Cin]ᵀ
    if (cin > 0) sgemm(true, true, m, n, cin, w, m, x + r0 * w_in * cin, cin, t.get(), n, false, n_threads);
    else std::fill(t.get(), t.get() + m * n, 0.0f);
    parallel_for(n_threads, 2 * nr, [&](int64_t job) {
      const int64_t iy = r0 + job / 2, ky = job % 2, oy = 2 * iy + ky;
      std::vector<float> mean(static_cast<size_t>(wo), 0.0f), var(static_cast<size_t>(wo), 0.0f);
      auto row = [&](int64_t co) { return y + (co * ho + oy) * wo; };
      for (int64_t co = 0; co < cout; ++co) {
        const float* t0 = t.get() + (co * 4 + ky * 2) * n + (iy - r0) * w_in;
        scatter_row(t0, t0 + n, b[co], addend + (co * ho + oy) * wo, row(co), w_in);
        const float* r = row(co);
        for (int64_t i = 0; i < wo; ++i) mean[static_cast<size_t>(i)] += r[i];
      }
      const float inv_c = 1.0f / static_cast<float>(cout);
      for (float& v : mean) v *= inv_c;
      for (int64_t co = 0; co < cout; ++co) {
        const float* r = row(co);
        for (int64_t i = 0; i < wo; ++i) {
          const float d = r[i] - mean[static_cast<size_t>(i)];
          var[static_cast<size_t>(i)] += d * d;
        }
      }
      for (float& v : var) v = 1.0f / std::sqrt(v * inv_c + eps);  // now the inverse deviation
      for (int64_t co = 0; co < cout; ++co) {
        float* r = row(co);
        const float g = gamma[co], be = beta[co];
        for (int64_t i = 0; i < wo; ++i)
          r[i] = (r[i] - mean[static_cast<size_t>(i)]) * var[static_cast<size_t>(i)] * g + be;
        gelu(r, wo, 1);
      }
    });
  }
}

void deconv_gelu_project(const float* x, int64_t cin, int64_t h, int64_t w_in, const float* w, int64_t cout,
                         const float* b, const float* addend, const float* proj, int64_t m_out, float* y,
                         int n_threads) {
  const int64_t m = 4 * cout, ho = 2 * h, wo = 2 * w_in, hw = h * w_in, band = band_rows(m, h, w_in);
  std::unique_ptr<float[]> t(new float[static_cast<size_t>(m * band * w_in)]);
  for (int64_t r0 = 0; r0 < h; r0 += band) {
    const int64_t nr = std::min(band, h - r0), n = nr * w_in;
    // t[4·Cout, n] = w[Cin, 4·Cout]ᵀ · x[Cin, r0·W : (r0+nr)·W]
    if (cin > 0) sgemm(true, false, m, n, cin, w, m, x + r0 * w_in, hw, t.get(), n, false, n_threads);
    else std::fill(t.get(), t.get() + m * n, 0.0f);
    parallel_for(n_threads, 2 * nr, [&](int64_t job) {
      const int64_t iy = r0 + job / 2, ky = job % 2, oy = 2 * iy + ky;
      std::vector<float> g(static_cast<size_t>(wo)), acc(static_cast<size_t>(m_out * wo), 0.0f);
      for (int64_t co = 0; co < cout; ++co) {
        const float* t0 = t.get() + (co * 4 + ky * 2) * n + (iy - r0) * w_in;
        scatter_row(t0, t0 + n, b[co], addend + (co * ho + oy) * wo, g.data(), w_in);
        gelu(g.data(), wo, 1);
        for (int64_t k = 0; k < m_out; ++k) {
          const float p = proj[k * cout + co];
          float* a = acc.data() + k * wo;
          for (int64_t i = 0; i < wo; ++i) a[i] += p * g[static_cast<size_t>(i)];
        }
      }
      for (int64_t k = 0; k < m_out; ++k)
        std::copy(acc.begin() + k * wo, acc.begin() + (k + 1) * wo, y + (k * ho + oy) * wo);
    });
  }
}

}  // namespace sam3::kernels::cpu
