// sam3.cpp — reference resize kernels (see kernels/resize_taps.h for the exact arithmetic): every output element is
// computed on its own, straight from the definition, with no precomputed passes or threads. Slow; the oracle.
// ref: torch aten/src/ATen/native/cpu/UpSampleKernel.cpp (_compute_weights_aa, separable AA kernel,
//      cpu_upsample_linear_channels_last), torchvision v2.Resize
//
// No floating-point contraction in this file: where the official build fused (and where it did not) is part of
// the result, so every fma below is explicit.
#include "core/strict_fp.h"  // no FMA contraction: see that header

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/ref.h"
#include "kernels/resize_taps.h"

namespace sam3::kernels {

namespace ref {
namespace {

// acc = v(0)*w0; taps 1..n-1: the first (n-1) - (n-1)%4 as acc + v*w (two roundings), the rest as fma.
template <class Value>
float aa_accumulate(const Value& v, const float* w, int64_t n) {
  float acc = v(0) * w[0];
  const int64_t plain = (n - 1) - (n - 1) % 4;
  int64_t j = 1;
  for (; j <= plain; ++j) acc = acc + v(j) * w[j];
  for (; j < n; ++j) acc = std::fma(v(j), w[j], acc);
  return acc;
}

void check(const ops::U8Planes& in, int64_t out_h, int64_t out_w) {
  if (!in.data || in.channels <= 0 || in.height <= 0 || in.width <= 0 || out_h <= 0 || out_w <= 0)
    throw Error("resize_aa: empty input or output (" + std::to_string(in.channels) + "x" + std::to_string(in.height) +
                "x" + std::to_string(in.width) + " -> " + std::to_string(out_h) + "x" + std::to_string(out_w) + ")");
}

}  // namespace

void resize_aa_f32(const ops::U8Planes& in, int64_t out_h, int64_t out_w, float* out) {
  check(in, out_h, out_w);
  const bool do_w = in.width != out_w, do_h = in.height != out_h;  // torch skips an unchanged axis
  const AATaps tw = aa_bilinear_taps(in.width, out_w), th = aa_bilinear_taps(in.height, out_h);
  for (int64_t c = 0; c < in.channels; ++c) {
    const uint8_t* plane = in.data + c * in.c_stride;
    for (int64_t oy = 0; oy < out_h; ++oy) {
      for (int64_t ox = 0; ox < out_w; ++ox) {
        // First pass (W): the value of input row y at output column ox.
        auto row_value = [&](int64_t y) -> float {
          const uint8_t* row = plane + y * in.y_stride;
          if (!do_w) return static_cast<float>(row[ox * in.x_stride]);
          const int64_t x0 = tw.start[static_cast<size_t>(ox)];
          return aa_accumulate([&](int64_t j) { return static_cast<float>(row[(x0 + j) * in.x_stride]); },
                               &tw.weights[static_cast<size_t>(ox * tw.max_taps)], tw.count[static_cast<size_t>(ox)]);
        };
        // Second pass (H) over the first pass's values.
        float v;
        if (!do_h) {
          v = row_value(oy);
        } else {
          const int64_t y0 = th.start[static_cast<size_t>(oy)];
          v = aa_accumulate([&](int64_t j) { return row_value(y0 + j); },
                            &th.weights[static_cast<size_t>(oy * th.max_taps)], th.count[static_cast<size_t>(oy)]);
        }
        out[(c * out_h + oy) * out_w + ox] = v;
      }
    }
  }
}

void resize_aa_u8(const ops::U8Planes& in, int64_t out_h, int64_t out_w, uint8_t* out) {
  check(in, out_h, out_w);
  std::vector<float> f(static_cast<size_t>(in.channels * out_h * out_w));
  resize_aa_f32(in, out_h, out_w, f.data());
  for (size_t i = 0; i < f.size(); ++i) {
    const float r = std::nearbyint(f[i]);  // default rounding mode: half to even, as torch.round
    out[i] = static_cast<uint8_t>(std::clamp(r, 0.0f, 255.0f));
  }
}

void upsample_bilinear_f32(const float* in, int64_t n, int64_t h, int64_t w, float* out, int64_t out_h,
                           int64_t out_w) {
  if (!in || n < 0 || h <= 0 || w <= 0 || out_h <= 0 || out_w <= 0)
    throw Error("upsample_bilinear: empty input or output (" + std::to_string(h) + "x" + std::to_string(w) + " -> " +
                std::to_string(out_h) + "x" + std::to_string(out_w) + ")");
  const LinearTaps ty = linear_taps(h, out_h), tx = linear_taps(w, out_w);
  for (int64_t k = 0; k < n; ++k) {
    const float* p = in + k * h * w;
    for (int64_t y = 0; y < out_h; ++y) {
      const size_t sy = static_cast<size_t>(y);
      for (int64_t x = 0; x < out_w; ++x) {
        const size_t sx = static_cast<size_t>(x);
        const float w00 = ty.l0[sy] * tx.l0[sx], w01 = ty.l0[sy] * tx.l1[sx];
        const float w10 = ty.l1[sy] * tx.l0[sx], w11 = ty.l1[sy] * tx.l1[sx];
        const double a = p[ty.i0[sy] * w + tx.i0[sx]], b = p[ty.i0[sy] * w + tx.i1[sx]];
        const double c = p[ty.i1[sy] * w + tx.i0[sx]], d = p[ty.i1[sy] * w + tx.i1[sx]];
        out[(k * out_h + y) * out_w + x] = static_cast<float>(a * w00 + b * w01 + c * w10 + d * w11);
      }
    }
  }
}

void upsample_bilinear_threshold_u8(const float* in, int64_t n, int64_t h, int64_t w, float thr, uint8_t* out,
                                    int64_t out_h, int64_t out_w) {
  std::vector<float> up(static_cast<size_t>(std::max<int64_t>(0, n * out_h * out_w)));
  upsample_bilinear_f32(in, n, h, w, up.data(), out_h, out_w);
  for (size_t i = 0; i < up.size(); ++i) out[i] = up[i] > thr ? 1 : 0;
}

}  // namespace ref
}  // namespace sam3::kernels
