// sam3.cpp — naive reference kernels: slow, obviously right, kept forever as the oracle for src/kernels/cpu/ and
// selectable as a whole back end (RunContext::backend = Backend::Ref).
//
// Raw-pointer kernels over contiguous row-major f32 data, one per op of core/ops.h (which documents each and checks
// the arguments before any kernel runs). Accumulation is in double where it matters, so the reference is (much)
// more accurate than any f32 kernel it checks. Single-threaded; no scratch beyond small std::vectors.
#pragma once
#include <cstdint>

#include "core/ops.h"
#include "kernels/roi_align_geometry.h"

namespace sam3::kernels::ref {

// y[M,N] = x[M,K] · w[N,K]ᵀ + b[N]  (b may be null)
void linear(const float* x, const float* w, const float* b, float* y, int64_t M, int64_t N, int64_t K);
// Reduced precision (the rounding: kernels/quantize.h). bf16: y = bf16(x) · w_bf16ᵀ + b, exact sums. int8: x
// quantized per row onto 0..levels, w s8 [N,K] with per-row scales w_scale[N] and sums colsum[N], exact s32 sums,
// then dequantized (+ b).
void linear_bf16(const float* x, const uint16_t* w, const float* b, float* y, int64_t M, int64_t N, int64_t K);
void linear_int8(const float* x, const int8_t* w, const float* w_scale, const int32_t* colsum, int levels,
                 const float* b, float* y, int64_t M, int64_t N, int64_t K);
// y[M,N] = x[M,K] · w[N,K]ᵀ + addend[M,N]  (addend may be y)
void linear_add(const float* x, const float* w, const float* addend, float* y, int64_t M, int64_t N, int64_t K);
// y[M,N] = a[M,K] · b[K,N]
void matmul(const float* a, const float* b, float* y, int64_t M, int64_t N, int64_t K);

// y[rows,C] = LayerNorm(x[rows,C]) · gamma[C] + beta[C]; y may alias x.
void layer_norm(const float* x, const float* gamma, const float* beta, float eps, float* y, int64_t rows,
                int64_t C);
// y[rows,C] = LayerNorm(x[rows,C] + bias[C]) · gamma[C] + beta[C]; y may alias x.
void bias_layer_norm(const float* x, const float* bias, const float* gamma, const float* beta, float eps, float* y,
                     int64_t rows, int64_t C);
// x[c, hw] in `groups` groups -> y (may alias x), optional ReLU.
void group_norm(const float* x, int64_t c, int64_t hw, int64_t groups, const float* gamma, const float* beta,
                float eps, bool relu, float* y);

// In place, n elements: x = x/2 · (1 + erf(x/√2)) / x = max(x, 0).
void gelu(float* x, int64_t n);
void relu(float* x, int64_t n);
// y[n] = a[n] + b[n]; y may alias a or b.
void add(const float* a, const float* b, float* y, int64_t n);

// Softmax attention exactly as documented in ops.h. A query whose keys are all masked gets a zero output.
void attention(const ops::AttentionArgs& a);
// As documented in ops.h: K and V formed explicitly (double), then plain softmax attention.
void few_query_attention(const ops::FewQueryAttentionArgs& a);
void rope(const ops::RopeArgs& a);

// y[Cout,Ho,Wo] = conv(x[Cin,H,W], w[Cout,Cin,kh,kw]) + b[Cout] (b may be null), zero padding.
void conv2d(const float* x, int64_t cin, int64_t h, int64_t w_in, const float* w, int64_t cout, int64_t kh,
            int64_t kw, const float* b, int stride, int pad, float* y);
// y[Cout,2H,2W] += conv3x3_pad1(nearest_up2(x[Cin,H,W])) in its polyphase form (ops::conv3x3_up2_accumulate):
// y[co, 2i+a, 2j+b] += Σ_{r,c} Σ_ci wp[a,b,r,c][co,ci] · x[ci, i+r-1+a, j+c-1+b], zero outside x.
void conv3x3_up2_accumulate(const float* x, int64_t cin, int64_t h, int64_t w, const float* wp, int64_t cout,
                            float* y);
// y[Cout,2H,2W] from x[Cin,H,W], w[Cin,Cout,2,2], b[Cout] (b may be null).
void conv_transpose2d_k2s2(const float* x, int64_t cin, int64_t h, int64_t w_in, const float* w, int64_t cout,
                           const float* b, float* y);
// SAM's upscaling steps (convT = the k2 s2 transposed convolution above, w [Cin,Cout,2,2], b [Cout], addend
// [Cout,2H,2W]). y[Cout,2H,2W] = GELU(LayerNorm2d(convT(x) + b + addend)) with x as tokens [H·W, Cin] and the norm
// over the channels of each pixel (gamma, beta [Cout]).
void deconv_ln_gelu(const float* x, int64_t h, int64_t w_in, int64_t cin, const float* w, int64_t cout, const float* b,
                    const float* addend, const float* gamma, const float* beta, float eps, float* y);
// y[M,2H,2W] = Σ_co proj[m, co] · GELU(convT(x) + b + addend)[co], x [Cin,H,W], proj [M, Cout].
void deconv_gelu_project(const float* x, int64_t cin, int64_t h, int64_t w_in, const float* w, int64_t cout,
                         const float* b, const float* addend, const float* proj, int64_t m, float* y);
// y[C,H/2,W/2] = max over 2×2 blocks of x[C,H,W] (floor).
void max_pool2d_k2s2(const float* x, int64_t c, int64_t h, int64_t w_in, float* y);
// y[c, oh, ow] = x[c, nearest] (+ addend[c, oh, ow] when not null).
void upsample_nearest(const float* x, int64_t c, int64_t h, int64_t w, const float* addend, int64_t oh, int64_t ow,
                      float* y);

// Resize kernels (arithmetic: kernels/resize_taps.h). Anti-aliased resize of all planes to out_h x out_w:
// out [C, out_h, out_w] CHW float before rounding, or rounded half-to-even to uint8.
void resize_aa_f32(const ops::U8Planes& in, int64_t out_h, int64_t out_w, float* out);
void resize_aa_u8(const ops::U8Planes& in, int64_t out_h, int64_t out_w, uint8_t* out);
// Plain bilinear of n float maps: in [n, h, w] -> out [n, out_h, out_w].
void upsample_bilinear_f32(const float* in, int64_t n, int64_t h, int64_t w, float* out, int64_t out_h,
                           int64_t out_w);
// in > thr after the plain bilinear above: out [n, out_h, out_w] of 0 / 1.
void upsample_bilinear_threshold_u8(const float* in, int64_t n, int64_t h, int64_t w, float thr, uint8_t* out,
                                    int64_t out_h, int64_t out_w);

// x[c,h,w], boxes[n,4] -> y[n,c,out_h,out_w] (geometry: kernels/roi_align_geometry.h).
void roi_align(const RoiAlignArgs& a);

// areas[m, y, x] = number of pixels of the 8-connected component of mask[m] (nonzero) holding (y, x), 0 where the mask
// is 0. mask, areas: [n, h, w].
void component_areas(const uint8_t* mask, int64_t n, int64_t h, int64_t w, int32_t* areas);

}  // namespace sam3::kernels::ref
