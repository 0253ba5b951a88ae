// sam3.cpp — reference twins of SAM's mask-decoder upscaling steps (each a transposed convolution k2 s2 with what
// follows it fused): all in double, one output pixel at a time, straight from the definitions.
// ref: sam3/sam/mask_decoder.py (MaskDecoder.predict_masks: output_upscaling, hyper_in @ upscaled_embedding),
//      sam3/sam/common.py (LayerNorm2d)
#include <cmath>
#include <vector>

#include "kernels/ref.h"

namespace sam3::kernels::ref {

namespace {

double gelu(double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }

// convT(x)[co, oy, ox] + b[co] + addend[co, oy, ox], x read through x_at(ci, iy, ix).
template <class X>
double deconv_at(X x_at, int64_t cin, const float* w, int64_t cout, const float* b, const float* addend, int64_t co,
                 int64_t oy, int64_t ox, int64_t ho, int64_t wo) {
  const int64_t iy = oy / 2, ix = ox / 2, ky = oy % 2, kx = ox % 2;
  double s = static_cast<double>(b[co]) + addend[(co * ho + oy) * wo + ox];
  for (int64_t ci = 0; ci < cin; ++ci) s += static_cast<double>(x_at(ci, iy, ix)) * w[((ci * cout + co) * 2 + ky) * 2 + kx];
  return s;
}

}  // namespace

void deconv_ln_gelu(const float* x, int64_t h, int64_t w_in, int64_t cin, const float* w, int64_t cout, const float* b,
                    const float* addend, const float* gamma, const float* beta, float eps, float* y) {
  const int64_t ho = 2 * h, wo = 2 * w_in;
  auto x_at = [&](int64_t ci, int64_t iy, int64_t ix) { return x[(iy * w_in + ix) * cin + ci]; };  // tokens
  std::vector<double> v(static_cast<size_t>(cout));
  for (int64_t oy = 0; oy < ho; ++oy)
    for (int64_t ox = 0; ox < wo; ++ox) {
      double mean = 0;
      for (int64_t co = 0; co < cout; ++co) {
        v[static_cast<size_t>(co)] = deconv_at(x_at, cin, w, cout, b, addend, co, oy, ox, ho, wo);
        mean += v[static_cast<size_t>(co)];
      }
      mean /= static_cast<double>(cout);
      double var = 0;
      for (int64_t co = 0; co < cout; ++co) var += (v[static_cast<size_t>(co)] - mean) * (v[static_cast<size_t>(co)] - mean);
      const double inv = 1.0 / std::sqrt(var / static_cast<double>(cout) + eps);
      for (int64_t co = 0; co < cout; ++co)
        y[(co * ho + oy) * wo + ox] =
            static_cast<float>(gelu((v[static_cast<size_t>(co)] - mean) * inv * gamma[co] + beta[co]));
    }
}

void deconv_gelu_project(const float* x, int64_t cin, int64_t h, int64_t w_in, const float* w, int64_t cout,
                         const float* b, const float* addend, const float* proj, int64_t m, float* y) {
  const int64_t ho = 2 * h, wo = 2 * w_in;
  auto x_at = [&](int64_t ci, int64_t iy, int64_t ix) { return x[(ci * h + iy) * w_in + ix]; };  // channels first
  std::vector<double> g(static_cast<size_t>(cout));
  for (int64_t oy = 0; oy < ho; ++oy)
    for (int64_t ox = 0; ox < wo; ++ox) {
      for (int64_t co = 0; co < cout; ++co)
        g[static_cast<size_t>(co)] = gelu(deconv_at(x_at, cin, w, cout, b, addend, co, oy, ox, ho, wo));
      for (int64_t k = 0; k < m; ++k) {
        double s = 0;
        for (int64_t co = 0; co < cout; ++co) s += static_cast<double>(proj[k * cout + co]) * g[static_cast<size_t>(co)];
        y[(k * ho + oy) * wo + ox] = static_cast<float>(s);
      }
    }
}

}  // namespace sam3::kernels::ref
