// sam3.cpp — optimised CPU kernels (OpenBLAS sgemm, AVX2/FMA, OpenMP over an explicit thread count).
//
// Same contracts as the reference kernels in kernels/ref.h (which the unit tests compare them with), plus
// `n_threads`. Scratch is per thread and bounded (attention tiles); nothing here allocates O(L²).
#pragma once
#include <cstdint>

#include "core/ops.h"
#include "kernels/roi_align_geometry.h"

namespace sam3::kernels::cpu {

// y[M,N] = x[M,K] · w[N,K]ᵀ + b[N]  (b may be null). One product on n_threads threads: oneDNN's where its ISA is
// AVX-512 (onednn_f32 in onednn_matmul.h), else OpenBLAS's sgemm. Either way each row's result is the same
// bits whatever M and n_threads.
void linear(const float* x, const float* w, const float* b, float* y, int64_t M, int64_t N, int64_t K,
            int n_threads);
void matmul(const float* a, const float* b, float* y, int64_t M, int64_t N, int64_t K, int n_threads);
// y[M,N] = x[M,K] · w[N,K]ᵀ + addend[M,N]: addend copied into y (skipped when it is y), then one product accumulated
// onto it (as linear: oneDNN or OpenBLAS).
void linear_add(const float* x, const float* w, const float* addend, float* y, int64_t M, int64_t N, int64_t K,
                int n_threads);

// y[M,N] = x[M,K] · wᵀ + b with a reduced-precision weight (kernels/packed_weight.h): oneDNN on the packed copy
// (the matrix units where the CPU has them), or, for bf16 where oneDNN has no kernel, bf16-rounded inputs times the
// weight expanded to f32 through sgemm (same products, f32 sums). `scratch` holds linear_packed_scratch_bytes().
size_t linear_packed_scratch_bytes(const ops::PackedWeight& w, int64_t M);
void linear_packed(const float* x, const ops::PackedWeight& w, const float* b, float* y, int64_t M, void* scratch,
                   int n_threads);

// Plain sgemm wrapper used by several kernels: C[M,N] = op(A) · op(B) (+ C if accumulate), op(A) = A[M,K] or
// A[K,M]ᵀ when a_trans, op(B) = B[K,N] or B[N,K]ᵀ when b_trans. Row-major, leading dims lda/ldb/ldc. Runs on
// n_threads OpenBLAS threads (one when called inside an OpenMP parallel region).
void sgemm(bool a_trans, bool b_trans, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float* C, int64_t ldc, bool accumulate, int n_threads);

// Threads over rows / groups.
void layer_norm(const float* x, const float* gamma, const float* beta, float eps, float* y, int64_t rows,
                int64_t C, int n_threads);
// LayerNorm(x + bias[C]) per row (the row + bias written to y, then normalised there; y may alias x).
void bias_layer_norm(const float* x, const float* bias, const float* gamma, const float* beta, float eps, float* y,
                     int64_t rows, int64_t C, int n_threads);
void group_norm(const float* x, int64_t c, int64_t hw, int64_t groups, const float* gamma, const float* beta,
                float eps, bool relu, float* y, int n_threads);

void gelu(float* x, int64_t n, int n_threads);
void relu(float* x, int64_t n, int n_threads);
void add(const float* a, const float* b, float* y, int64_t n, int n_threads);

// Fused flash-style attention (online softmax), parallel over (head, query tile). With a.bf16 it runs on
// attention_bf16_tiles where the CPU has bf16 instructions, else on its own kernels with the same roundings.
void attention(const ops::AttentionArgs& a, int n_threads);
// attention()'s kernels for AVX2 (head_dim % 16 == 0; other head dims, and builds without AVX2, on sgemm tiles) and
// for AVX-512 (head_dim % 16 == 0; attention_avx512.cpp): the same floats, 8 or 16 lanes. AVX-512 is available where
// oneDNN's effective ISA is (ONEDNN_MAX_CPU_ISA=AVX2 caps both); attention() takes it there.
void attention_avx2(const ops::AttentionArgs& a, int n_threads);
bool attention_avx512_available();
void attention_avx512(const ops::AttentionArgs& a, int n_threads);
// a.bf16 attention as oneDNN matmuls over tiles (flash style: Q·Kᵀ and P·V per tile, f32 online softmax between
// them), so the products run on the matrix units (AMX) where the CPU has them. The operands are stored as bf16
// (BF16: needs a oneDNN bf16 kernel, onednn_has_kernel; attention() takes it only where
// attention_bf16_tiles_available(), i.e. with bf16 instructions) or as the same bf16-rounded values in f32 (F32:
// oneDNN's f32 kernels, every CPU; the same products, for the tests on CPUs without bf16 kernels).
enum class AttentionTileStorage : uint8_t { BF16, F32 };
bool attention_bf16_tiles_available();
void attention_bf16_tiles(const ops::AttentionArgs& a, int n_threads, AttentionTileStorage storage);
// The low-rank form of ops.h: scores [heads·lq, lk] by two sgemms, row softmax, P·x by one sgemm.
void few_query_attention(const ops::FewQueryAttentionArgs& a, int n_threads);
void rope(const ops::RopeArgs& a, int n_threads);

// im2col + sgemm (1×1 stride-1 convs skip im2col); the others on oneDNN where onednn_f32() (onednn_matmul.h).
void conv2d(const float* x, int64_t cin, int64_t h, int64_t w_in, const float* w, int64_t cout, int64_t kh,
            int64_t kw, const float* b, int stride, int pad, float* y, int n_threads);
// Four phases × four taps of sgemm over the zero-padded input at shifted offsets (an implicit GEMM).
void conv3x3_up2_accumulate(const float* x, int64_t cin, int64_t h, int64_t w, const float* wp, int64_t cout,
                            float* y, int n_threads);
// One sgemm [4·Cout, H·W] = wᵀ · x, then scatter into the 2× grid (+ bias).
void conv_transpose2d_k2s2(const float* x, int64_t cin, int64_t h, int64_t w_in, const float* w, int64_t cout,
                           const float* b, float* y, int n_threads);
// SAM's upscaling steps (kernels/ref.h), sgemm per band of input rows, then per output row the scatter with the
// bias, addend and what follows (LayerNorm2d + GELU; GELU + projection) while the row is in cache.
void deconv_ln_gelu(const float* x, int64_t h, int64_t w_in, int64_t cin, const float* w, int64_t cout, const float* b,
                    const float* addend, const float* gamma, const float* beta, float eps, float* y, int n_threads);
void deconv_gelu_project(const float* x, int64_t cin, int64_t h, int64_t w_in, const float* w, int64_t cout,
                         const float* b, const float* addend, const float* proj, int64_t m, float* y, int n_threads);
void max_pool2d_k2s2(const float* x, int64_t c, int64_t h, int64_t w_in, float* y, int n_threads);
void upsample_nearest(const float* x, int64_t c, int64_t h, int64_t w, const float* addend, int64_t oh, int64_t ow,
                      float* y, int n_threads);

// Separable, threaded passes computing exactly the reference's float operations (bit-identical results).
void resize_aa_f32(const ops::U8Planes& in, int64_t out_h, int64_t out_w, float* out, int n_threads);
void resize_aa_u8(const ops::U8Planes& in, int64_t out_h, int64_t out_w, uint8_t* out, int n_threads);
void upsample_bilinear_f32(const float* in, int64_t n, int64_t h, int64_t w, float* out, int64_t out_h,
                           int64_t out_w, int n_threads);
// Its threshold (v > thr -> 1, else 0) without the float maps; the same results. With thr = 0 whole runs of output
// columns whose four taps share a sign are decided without the arithmetic (the masks' interiors).
void upsample_bilinear_threshold_u8(const float* in, int64_t n, int64_t h, int64_t w, float thr, uint8_t* out,
                                    int64_t out_h, int64_t out_w, int n_threads);

void roi_align(const RoiAlignArgs& a, int n_threads);

// Union-find in one raster pass per map, maps in parallel (same result as the reference flood fill).
void component_areas(const uint8_t* mask, int64_t n, int64_t h, int64_t w, int32_t* areas, int n_threads);

}  // namespace sam3::kernels::cpu
