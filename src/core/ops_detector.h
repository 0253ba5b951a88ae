// sam3.cpp — ops used by the per-prompt detector head (fusion encoder → decoder → scoring → mask head) that
// are not in core/ops.h: GroupNorm, nearest up-sampling, plain matmul.
//
// Same contract as ops.h: each op checks shapes/dtypes (throwing sam3::Error) and dispatches to the optimised CPU
// kernel; every kernel has a naive twin (double accumulation) that tests/unit/test_kernel_<op>.cpp compares it with.
// All tensors F32, contiguous, row-major, batch 1 (a leading batch dimension of 1 is accepted where noted).
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace sam3::ops {

// torch.nn.GroupNorm (+ optional fused ReLU): x[C,H,W] (or [1,C,H,W]) split into `groups` groups of C/groups
// channels; mean and biased variance over (C/groups × H × W); y = (x-μ)/sqrt(var+eps)·γ[c] + β[c]; y may alias x.
void group_norm(const Tensor& x, int groups, const Tensor& gamma, const Tensor& beta, float eps, bool relu, Tensor& y,
                int n_threads);

// Legacy nearest resize (F.interpolate mode="nearest"): y[c,i,j] = x[c, min(floor(i·h/H), h-1), min(floor(j·w/W),
// w-1)] (+ addend[c,i,j] when addend is given). x[C,h,w] → y[C,H,W] (leading batch 1 accepted).
void upsample_nearest(const Tensor& x, const Tensor* addend, Tensor& y, int n_threads);

// y[M,N] = a[M,K] · b[K,N] (plain product, e.g. the mask einsum "qc,chw->qhw"). a, b may have leading dims of 1.
void matmul(const Tensor& a, const Tensor& b, Tensor& y, int n_threads);

}  // namespace sam3::ops

namespace sam3::kernels::ref {
void group_norm(const float* x, int64_t c, int64_t hw, int64_t groups, const float* gamma, const float* beta,
                float eps, bool relu, float* y);
void upsample_nearest(const float* x, int64_t c, int64_t h, int64_t w, const float* addend, int64_t oh, int64_t ow,
                      float* y);
void matmul(const float* a, const float* b, float* y, int64_t M, int64_t N, int64_t K);
}  // namespace sam3::kernels::ref

namespace sam3::kernels::cpu {
void group_norm(const float* x, int64_t c, int64_t hw, int64_t groups, const float* gamma, const float* beta,
                float eps, bool relu, float* y, int n_threads);
void upsample_nearest(const float* x, int64_t c, int64_t h, int64_t w, const float* addend, int64_t oh, int64_t ow,
                      float* y, int n_threads);
void matmul(const float* a, const float* b, float* y, int64_t M, int64_t N, int64_t K, int n_threads);
}  // namespace sam3::kernels::cpu
