// sam3.cpp — the ops API: what each operation computes, with shape checks, dispatched to a kernel.
//
// Model code calls only these functions; it never names a kernel, a back end or an instruction set. Each op checks
// its arguments' shapes/dtypes (throwing sam3::Error naming the op and the argument) and then core/ops.cpp, the one
// place where the kernel is chosen, dispatches on
//   * ctx.backend: Cpu (src/kernels/cpu, optimised, the ISA picked at run time) or Ref (src/kernels/ref, the oracle);
//   * the weights' dtype (F32 today; a reduced-precision weight type is one more case in ops.cpp, not in models).
// Every kernel has a naive twin in src/kernels/ref that tests/unit compares it with. Tensors are F32, contiguous,
// row-major, batch 1 unless noted. The thread count comes from ctx.n_threads.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/context.h"
#include "core/precision.h"
#include "core/tensor.h"

namespace sam3::ops {

// ---- dense layers ------------------------------------------------------------------------------------------------

// y[M,N] = x[M,K] · w[N,K]ᵀ + b[N]   (torch.nn.Linear; b may be null or undefined). x may have any leading dims.
void linear(const Tensor& x, const Tensor& w, const Tensor* b, Tensor& y, const RunContext& ctx);
// y[M,N] = x[M,K] · w[N,K]ᵀ + addend[M,N]: a residual, or per-row terms computed ahead (e.g. the projection of a
// positional encoding that is the same for every image, plus the bias). addend may be y itself (accumulate in place),
// neither may overlap x. x may have any leading dims; addend and y are [..., N] with x's row count.
void linear_add(const Tensor& x, const Tensor& w, const Tensor& addend, Tensor& y, const RunContext& ctx);

// ---- reduced precision (docs/precision.md) ------------------------------------------------------------------------

// A Linear weight converted once to BF16 or Int8 and laid out for this CPU's kernels (kernels/packed_weight.h;
// opaque here). Immutable: one may serve any number of threads at once.
struct PackedWeight;
// w [N,K] F32 -> the packed weight (Int8: symmetric per output channel). Throws for F32.
std::shared_ptr<const PackedWeight> pack_weight(const Tensor& w, Precision precision);
// The same from a weight stored in a converted file (docs/weights.md), taken as stored, never re-rounded:
//   F32 or F16 [N,K] (f16 values are exact f32 ones): converted as above, `scale` null;
//   BF16 [N,K] bits: only for BF16, `scale` null;
//   I8 [N,K] in [-127, 127] with its per-output-channel F32 `scale` [N] (finite, > 0): only for Int8.
// The result equals pack_weight of the F32 weight the stored one was converted from. Throws sam3::Error naming the
// problem (wrong dtype for the precision, missing / misshapen / non-finite scale, -128) otherwise.
std::shared_ptr<const PackedWeight> pack_weight(const Tensor& w, const Tensor* scale, Precision precision);
// Whether `p` still reads the memory of the tensor it was packed from (a BF16 / I8 weight kept in place where oneDNN
// has no kernel for it): that memory must then stay. Otherwise the source is not needed after pack_weight.
bool packed_weight_borrows(const PackedWeight& p);

// The stored forms of a converted file, with pack_weight's arithmetic (owned results, any shape):
// F32 -> BF16 bits (nearest, ties to even).
Tensor to_bf16(const Tensor& x);
// w F32 [N,K] -> I8 [N,K] and `scale` F32 [N] (symmetric per output channel: kernels/quantize.h).
Tensor quantize_s8(const Tensor& w, Tensor* scale);
// F32 -> F16 (nearest, ties to even). Throws sam3::Error naming `what` if a finite value is beyond f16's range
// (|x| >= 65520 would become infinite).
Tensor to_f16(const Tensor& x, const std::string& what);
// F16 -> F32, exact.
Tensor f16_to_f32(const Tensor& x);
// y[M,N] = x[M,K] · wᵀ + b[N] with the products in w's precision and f32 (bf16) or s32 (int8) sums; x and y F32.
// Its scratch (the converted activations) comes from ctx and is released before it returns.
void linear(const Tensor& x, const PackedWeight& w, const Tensor* b, Tensor& y, const RunContext& ctx);
// Scratch bytes linear() takes from ctx's arena for `rows` rows (for arena size plans).
size_t linear_scratch_bytes(const PackedWeight& w, int64_t rows);
// Whether `precision` runs on matrix-unit/vector kernels here (oneDNN); false: a correct but slower fallback
// (bf16 without AVX512-BF16 or AMX, even where oneDNN emulates it). F32 is always true.
bool has_fast_kernel(Precision precision);
// Whether the attention of modules computing at `precision` multiplies in bf16 (AttentionArgs::bf16): for bf16, and
// for int8 where the CPU has bf16 instructions (8-bit softmax weights would lose the many small weights of a long row;
// on a CPU without them bf16 attention would only cost accuracy, so int8's attention stays f32 there).
bool attention_in_bf16(Precision precision);
// The instruction set the reduced-precision kernels use here (oneDNN's, after ONEDNN_MAX_CPU_ISA), e.g. "avx2".
std::string matmul_isa();

// y[M,N] = a[M,K] · b[K,N] (plain product, e.g. the mask einsum "qc,chw->qhw"). a, b may have leading dims of 1.
void matmul(const Tensor& a, const Tensor& b, Tensor& y, const RunContext& ctx);

// ---- normalisation and element-wise ------------------------------------------------------------------------------

// y = LayerNorm over the last dim C: (x-μ)/sqrt(var+eps)·γ + β (biased variance). x, y: [..., C]; y may alias x.
void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, Tensor& y, const RunContext& ctx);
// y = LayerNorm(x + bias) with bias [C] added to every row first (a linear layer's bias deferred to the norm that
// follows its residual add); y may alias x.
void bias_layer_norm(const Tensor& x, const Tensor& bias, const Tensor& gamma, const Tensor& beta, float eps, Tensor& y,
                     const RunContext& ctx);

// torch.nn.GroupNorm (+ optional fused ReLU): x[C,H,W] (or [1,C,H,W]) split into `groups` groups of C/groups
// channels; mean and biased variance over (C/groups × H × W); y = (x-μ)/sqrt(var+eps)·γ[c] + β[c]; y may alias x.
void group_norm(const Tensor& x, int groups, const Tensor& gamma, const Tensor& beta, float eps, bool relu, Tensor& y,
                const RunContext& ctx);

// In place: exact erf GELU / ReLU.
void gelu_inplace(Tensor& x, const RunContext& ctx);
void relu_inplace(Tensor& x, const RunContext& ctx);

// y = a + b (same shape; y may alias a or b).
void add(const Tensor& a, const Tensor& b, Tensor& y, const RunContext& ctx);

// ---- attention and positions -------------------------------------------------------------------------------------

// Multi-head scaled-dot-product attention, fused and tiled (online softmax): never materialises Lq×Lk.
// Q/K/V/O are addressed with element strides so packed projections (e.g. the ViT's qkv output, (L, 3, H, D))
// and sequence-first layouts are used in place without copies:
//   q(h, i, d) = q[i*q_row + h*q_head + d], likewise for k, v, out.
struct AttentionArgs {
  const float* q = nullptr;
  int64_t q_row = 0, q_head = 0;
  const float* k = nullptr;
  int64_t k_row = 0, k_head = 0;
  const float* v = nullptr;
  int64_t v_row = 0, v_head = 0;
  float* out = nullptr;
  int64_t o_row = 0, o_head = 0;
  int64_t n_heads = 0, lq = 0, lk = 0, head_dim = 0;
  float scale = 0;  // usually 1/sqrt(head_dim)
  // Optional additive bias (e.g. decoder box relative-position bias): bias(h, i, j) = bias[h*bias_head + i*lk + j].
  const float* bias = nullptr;
  int64_t bias_head = 0;
  // Optional key padding mask: key j is excluded when key_pad[j] != 0.
  const uint8_t* key_pad = nullptr;
  // Causal (lq == lk): query i sees keys 0..i only. The same numbers as attending query i over the first i+1 keys
  // alone; one call instead of one per query.
  bool causal = false;
  // bf16 products (docs/precision.md): Q·Kᵀ and P·V multiply bf16-rounded operands — q·scale·log2(e), k, v and the
  // softmax numerators p = 2^(s − running max) — with f32 sums; scores are in log2 units (the bias scaled by
  // log2 e); the max, the sums l = Σ p (of the unrounded p) and the output rescaling stay f32. Where oneDNN has bf16
  // kernels (AMX, AVX512-BF16) the tiles' products run on them; elsewhere the same roundings on f32 kernels.
  bool bf16 = false;
};
void attention(const AttentionArgs& args, const RunContext& ctx);

// Attention of a few queries over many keys whose projections are never formed (SAM's token -> image attention):
// K = x·wkᵀ + k_add and V = x·wvᵀ + bv, x [lk, C] (row stride x_row), k_add [lk, I] (row stride k_add_row: what
// does not depend on x, e.g. the positional encoding's projection plus the bias, computed ahead), wk / wv [I, C],
// bv [I]; q [lq, I] already projected, I split into n_heads heads. out [lq, I] = softmax(scale·q_h·K_hᵀ)·V_h per
// head, computed as scores = (q_h·wk_h)·xᵀ + q_h·k_add_hᵀ and out_h = (P_h·x)·wv_hᵀ + bv_h (P's rows sum to 1):
// O(lq·heads·lk·C) instead of the projections' O(lk·C·I).
struct FewQueryAttentionArgs {
  const float* q = nullptr;  // [lq, internal]
  const float* x = nullptr;  // [lk, c], rows x_row apart
  const float* k_add = nullptr;  // [lk, internal], rows k_add_row apart
  const float* wk = nullptr;     // [internal, c]
  const float* wv = nullptr;     // [internal, c]
  const float* bv = nullptr;     // [internal]
  float* out = nullptr;          // [lq, internal]
  int64_t lq = 0, lk = 0, c = 0, internal = 0, n_heads = 1, x_row = 0, k_add_row = 0;
  float scale = 1.0f;
};
void few_query_attention(const FewQueryAttentionArgs& args, const RunContext& ctx);

// 2-D axial rotary position embedding (ViT RoPE), in place on q or k. Each head vector is viewed as head_dim/2
// complex numbers made of adjacent pairs (re = x[2j], im = x[2j+1]) and multiplied by row p of a complex table:
//   z_j <- z_j * (table[p, j, 0] + i*table[p, j, 1]),   p = pos ? pos[i] : i mod table_rows.
// x(i, h, d) = x[i*row + h*head + d] for i < n_rows, h < n_heads, d < head_dim (e.g. the q part of a packed qkv).
struct RopeArgs {
  float* x = nullptr;
  int64_t row = 0, head = 0;
  int64_t n_rows = 0, n_heads = 0, head_dim = 0;  // head_dim even
  const float* table = nullptr;  // [table_rows, head_dim/2, 2] (cos, sin): a complex64 freqs_cis viewed as floats
  int64_t table_rows = 0;
  const int32_t* pos = nullptr;  // [n_rows] table rows, or null for i mod table_rows
};
void rope(const RopeArgs& args, const RunContext& ctx);

// ---- convolutions, pooling, resampling (NCHW, batch 1) -------------------------------------------------------------

// 2-D convolution: x[Cin,H,W], w[Cout,Cin,kh,kw], b[Cout] (optional) -> y[Cout,Ho,Wo], Ho = (H + 2*pad - kh)/stride + 1.
void conv2d(const Tensor& x, const Tensor& w, const Tensor* b, int stride, int pad, Tensor& y, const RunContext& ctx);

// The pixel decoder's conv of an up-sampled map, on the map before the up-sampling (4 taps per output, not 9):
// y[Cout,2H,2W] += conv3x3_pad1(nearest_up2(x[Cin,H,W])) with the weights in polyphase form wp = conv3x3_up2_weights(w)
// [2 (row parity), 2 (column parity), 2 (tap row), 2 (tap column), Cout, Cin], made once from w [Cout,Cin,3,3].
// The same sum as conv2d of the up-sampled map up to rounding (kernel rows / columns that read the same source pixel
// are added first); no bias. y must not overlap x.
Tensor conv3x3_up2_weights(const Tensor& w);
void conv3x3_up2_accumulate(const Tensor& x, const Tensor& wp, Tensor& y, const RunContext& ctx);

// Transposed convolution with kernel 2, stride 2 (the FPN up-sampling): x[Cin,H,W], w[Cin,Cout,2,2], b[Cout]
// -> y[Cout,2H,2W].
void conv_transpose2d_k2s2(const Tensor& x, const Tensor& w, const Tensor* b, Tensor& y, const RunContext& ctx);

// SAM's mask-decoder upscaling steps, each a conv_transpose2d_k2s2 (w [Cin, Cout, 2, 2], b [Cout]) fused with what
// follows it, plus addend [Cout, 2H, 2W] (the high-resolution features):
// y [Cout, 2H, 2W] = GELU(LayerNorm2d(convT(x) + b + addend)), x the H·W tokens [H·W, Cin] of an H x W map, the norm
// over each pixel's channels (gamma, beta [Cout]); y must not overlap x or addend.
void deconv_ln_gelu(const Tensor& x, int64_t h, int64_t w, const Tensor& wt, const Tensor& b, const Tensor& addend,
                    const Tensor& gamma, const Tensor& beta, float eps, Tensor& y, const RunContext& ctx);
// y [M, 2H, 2W] = Σ_c proj[m, c] · GELU(convT(x) + b + addend)[c], x [Cin, H, W], proj [M, Cout] (the mask
// product of SAM's hypernetwork outputs with the upscaled embedding, which is never materialised).
void deconv_gelu_project(const Tensor& x, const Tensor& wt, const Tensor& b, const Tensor& addend, const Tensor& proj,
                         Tensor& y, const RunContext& ctx);

// Max pooling, kernel 2, stride 2: x[C,H,W] -> y[C,H/2,W/2] (floor).
void max_pool2d_k2s2(const Tensor& x, Tensor& y, const RunContext& ctx);

// Legacy nearest resize (F.interpolate mode="nearest"): y[c,i,j] = x[c, min(floor(i·h/H), h-1), min(floor(j·w/W),
// w-1)] (+ addend[c,i,j] when addend is given). x[C,h,w] → y[C,H,W] (leading batch 1 accepted).
void upsample_nearest(const Tensor& x, const Tensor* addend, Tensor& y, const RunContext& ctx);

// Plain bilinear resize (align_corners=False, no antialias) of n float maps: x F32 [n, h, w] (or [h, w]) ->
// y [n, H, W] (or [H, W]), bit-exact with torch's CPU kernel (the arithmetic: kernels/resize_taps.h).
void upsample_bilinear(const Tensor& x, Tensor& y, const RunContext& ctx);
// y (U8, [n, out_h, out_w] or [out_h, out_w]) = upsample_bilinear(x) > thr as 0 / 1, the float maps never stored
// (the same decisions as thresholding upsample_bilinear's output).
void upsample_bilinear_threshold(const Tensor& x, float thr, Tensor& y, const RunContext& ctx);

// A uint8 image as `channels` planes with arbitrary element strides: value(c, y, x) = data[c*c_stride + y*y_stride
// + x*x_stride]. HWC interleaved RGB: {1, 3*W, 3}; CHW planes: {H*W, W, 1}.
struct U8Planes {
  const uint8_t* data = nullptr;
  int64_t channels = 0, height = 0, width = 0;
  int64_t c_stride = 0, y_stride = 0, x_stride = 0;
};
// Anti-aliased bilinear resize (torch _upsample_bilinear2d_aa, as torchvision v2.Resize), rounded half-to-even:
// in -> y U8 [C, H, W]; or the float result before rounding into y F32 [C, H, W]. Bit-exact with the official
// pre-processing (the arithmetic: kernels/resize_taps.h).
void resize_aa(const U8Planes& in, Tensor& y, const RunContext& ctx);

// torchvision.ops.roi_align on one image (batch 1), NCHW:
//   x[C,H,W] (or [1,C,H,W]), boxes[N,4] = (x1, y1, x2, y2) in input pixels (multiplied by spatial_scale),
//   y[N,C,out_h,out_w] (preallocated; out_h/out_w are read from its shape).
// Per box: start = box·scale − (aligned ? 0.5 : 0); size = end − start, floored at 1 when !aligned; bin = size/out;
// grid per bin = sampling_ratio > 0 ? sampling_ratio : ceil(size/out); each output is the mean of bilinear samples
// at start + p·bin + (i+0.5)·bin/grid (a sample with y < −1, y > H, x < −1 or x > W is 0; coordinates are clamped
// to [0, H−1] × [0, W−1]). Sample positions are computed in float32 exactly as torchvision's CPU kernel does.
// ref: torchvision/csrc/ops/cpu/roi_align_kernel.cpp, roi_align_common.h
void roi_align(const Tensor& x, const Tensor& boxes, float spatial_scale, int sampling_ratio, bool aligned, Tensor& y,
               const RunContext& ctx);

// ---- connected components ------------------------------------------------------------------------------------------

// Areas of 8-connected components (skimage.measure.label(connectivity=2) then per-label counts): mask U8 [n, h, w]
// (or [h, w]; nonzero = foreground) -> areas I32 of the same shape, each foreground pixel's component size, 0 on
// background. The hole filling of the interactive masks (sam1_utils.py postprocess_masks) is built on it.
void component_areas(const Tensor& mask, Tensor& areas, const RunContext& ctx);

}  // namespace sam3::ops
