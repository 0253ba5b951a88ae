// sam3.cpp — the ops API: what each operation computes, with shape checks, dispatched to a kernel.
//
// Model code calls only these functions. Each op checks its arguments' shapes/dtypes (throwing sam3::Error
// with a clear message) and calls the optimised CPU kernel (src/kernels/cpu/); every kernel has a naive twin in
// src/kernels/ref/ that tests compare it with. All tensors are F32, contiguous, row-major, batch 1 unless noted.
// `n_threads` is always passed in by the caller.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace sam3::ops {

// y[M,N] = x[M,K] · w[N,K]ᵀ + b[N]   (torch.nn.Linear; b may be undefined). x may have any leading dims.
void linear(const Tensor& x, const Tensor& w, const Tensor* b, Tensor& y, int n_threads);

// y = LayerNorm over the last dim C: (x-μ)/sqrt(var+eps)·γ + β (biased variance). x, y: [..., C]; y may alias x.
void layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, Tensor& y, int n_threads);

// In place: exact erf GELU / ReLU.
void gelu_inplace(Tensor& x, int n_threads);
void relu_inplace(Tensor& x, int n_threads);

// y = a + b (same shape; y may alias a or b).
void add(const Tensor& a, const Tensor& b, Tensor& y, int n_threads);

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
};
void attention(const AttentionArgs& args, int n_threads);

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
void rope(const RopeArgs& args, int n_threads);

// 2-D convolution, batch 1, NCHW: x[Cin,H,W], w[Cout,Cin,kh,kw], b[Cout] (optional) -> y[Cout,Ho,Wo],
// Ho = (H + 2*pad - kh)/stride + 1.
void conv2d(const Tensor& x, const Tensor& w, const Tensor* b, int stride, int pad, Tensor& y, int n_threads);

// Transposed convolution with kernel 2, stride 2 (the FPN up-sampling): x[Cin,H,W], w[Cin,Cout,2,2], b[Cout]
// -> y[Cout,2H,2W].
void conv_transpose2d_k2s2(const Tensor& x, const Tensor& w, const Tensor* b, Tensor& y, int n_threads);

// Max pooling, kernel 2, stride 2, NCHW batch 1: x[C,H,W] -> y[C,H/2,W/2] (floor).
void max_pool2d_k2s2(const Tensor& x, Tensor& y, int n_threads);

}  // namespace sam3::ops
