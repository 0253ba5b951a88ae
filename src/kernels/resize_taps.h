// sam3.cpp — the arithmetic shared by the resize kernels (ops::resize_aa, ops::upsample_bilinear): the anti-aliased
// bilinear resize of the pre-processing and the plain bilinear up-sampling of mask logits. Reference kernels (kernels/ref/resize.cpp: direct, per output
// element, obviously right) and optimised ones (kernels/cpu/resize.cpp: separable passes, threaded) compute the
// SAME float operations in the same order, so they agree bit for bit; tests compare them with ==.
//
// Both reproduce, bit for bit, the fixtures made by the official pipeline (torch 1.13 CPU, float32):
// * Anti-aliased resize (torch _upsample_bilinear2d_aa, separable): the W pass first (into a float buffer
//   [C, H, out_w]), then the H pass; a pass whose size is unchanged is skipped. Per axis, taps and float32 weights
//   as in aa_bilinear_taps() below. Each output is acc = v0*w0, then taps 1..n-1 accumulated in order: the first
//   (n-1) - (n-1)%4 taps as a separately rounded product and sum (acc + v*w), the last (n-1)%4 taps as a fused
//   multiply-add fma(v, w, acc). This odd split is how the official build was compiled (its tap loop unrolled by
//   four without FMA, the remainder with FMA); it was found by matching the fixtures and is bit-exact on all of
//   them, while "always FMA" or "never FMA" leave up to 33 off-by-one pixels in a 252x252 resize.
//   The uint8 result is round-half-to-even of the float, clamped to [0, 255].
// * Plain bilinear (align_corners=False, torch upsample_bilinear2d channels-last kernel): per axis
//   src = max(double(float(in/out)) * (i + 0.5) - 0.5, 0), i0 = min(floor(src), in-1), i1 = i0 + (i0 < in-1),
//   l1 = float(src - i0), l0 = 1 - l1 (float); an unchanged axis is the identity (l0 = 1, l1 = 0). Output =
//   float(double(a)*w00 + double(b)*w01 + double(c)*w10 + double(d)*w11) with w.. = float(lh * lw), summed in double
//   in that order (a = (i0h, i0w), b = (i0h, i1w), c = (i1h, i0w), d = (i1h, i1w)).
//
// The kernel sources are compiled without floating-point contraction (GCC contracts a + b*c into an FMA by default
// for C++), because where the reference fuses is part of the result.
#pragma once
#include <cstdint>
#include <vector>

namespace sam3::kernels {

// Anti-aliased bilinear taps for one axis (torch HelperInterpBase::_compute_weights_aa with float):
//   scale = float(in)/out; support = scale >= 1 ? scale : 1; invscale = scale >= 1 ? 1/scale : 1;
//   center = float(scale*(i+0.5)); start = max(int(center - support + 0.5), 0);
//   count = min(int(center + support + 0.5), in) - start;
//   w_j = filter(float((j + start - center + 0.5) * invscale)), filter(x) = max(0, 1 - |x|); w_j /= sum_j w_j.
struct AATaps {
  int64_t max_taps = 0;           // row length of `weights`
  std::vector<int64_t> start;     // [out] first input index
  std::vector<int64_t> count;     // [out] number of taps (>= 1)
  std::vector<float> weights;     // [out, max_taps] normalised weights (zero-padded)
};
AATaps aa_bilinear_taps(int64_t in_size, int64_t out_size);

// Plain bilinear taps for one axis (see above).
struct LinearTaps {
  std::vector<int64_t> i0, i1;  // [out]
  std::vector<float> l0, l1;    // [out]
};
LinearTaps linear_taps(int64_t in_size, int64_t out_size);

}  // namespace sam3::kernels
