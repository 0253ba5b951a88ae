// sam3.cpp — oneDNN matmul with the weight pre-packed once: y[M,N] = x[M,K] · W[N,K]ᵀ (+ b). The matrix units
// (AMX, AVX-512 BF16/VNNI) are reached through oneDNN; it picks its kernel for the CPU at run time and honours
// ONEDNN_MAX_CPU_ISA. Primitives are created per row count M on first use and cached.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace sam3::kernels::cpu {

class OnednnMatmul {
 public:
  // x / W / y types: F32 f32·f32->f32; BF16 bf16·bf16->f32 (+ f32 bias); Int8 u8·s8->s32 (no bias: the caller
  // dequantizes).
  enum class Kind : uint8_t { F32, BF16, Int8 };

  // Packs w (plain [N,K] row-major of the kind's weight type: float, uint16_t bf16 bits or int8_t). Returns null
  // when oneDNN has no kernel for `kind` on this CPU (onednn_has_kernel; e.g. bf16 on AVX2).
  static std::unique_ptr<OnednnMatmul> create(Kind kind, const void* w, int64_t N, int64_t K);
  ~OnednnMatmul();

  // x [M,K] (type per kind, row-major), bias [N] f32 or null (F32/BF16), y [M,N] (f32, or s32 for Int8).
  void run(const void* x, const float* bias, void* y, int64_t M, int n_threads) const;
  // Writes the weight back in plain [N,K] layout (for the reference kernels and tests).
  void unpack(void* w) const;

  Kind kind() const { return kind_; }
  int64_t n() const { return n_; }
  int64_t k() const { return k_; }

 private:
  struct Impl;
  OnednnMatmul(Kind kind, int64_t N, int64_t K, std::unique_ptr<Impl> impl);
  Kind kind_;
  int64_t n_, k_;
  std::unique_ptr<Impl> impl_;
};

// oneDNN's effective instruction set on this CPU (after ONEDNN_MAX_CPU_ISA), e.g. "avx2", "avx512_core_amx".
std::string onednn_isa_name();
// Whether oneDNN has any kernel for `kind` here (probed with a small product once per process: the loads ask per
// layer), emulated ones included: oneDNN 2.6 runs bf16 on AVX-512 without AVX512-BF16 with f32 arithmetic.
bool onednn_has_kernel(OnednnMatmul::Kind kind);
// Whether the library uses oneDNN for `kind` here: it has a kernel, and for bf16 the CPU has bf16 instructions
// (AVX512-BF16 or AMX). oneDNN's emulated bf16 is slower than f32 (71 against 305 GFLOP/s for the 5184x4736x1024
// product on a 2-core Ice Lake Xeon), so bf16 there takes the fallback, as on AVX2.
bool onednn_supports(OnednnMatmul::Kind kind);
// Whether u8·s8 products may saturate 16-bit intermediate sums here (AVX2/AVX-512 without VNNI or AMX): int8
// activations then use 7 bits (kernels/quantize.h).
bool onednn_int8_saturates();
// Whether oneDNN's effective ISA (after ONEDNN_MAX_CPU_ISA) is AVX-512 (F, BW, DQ, VL: its avx512_core) or above: the
// library's own AVX-512 kernels follow it, so one cap covers both.
bool onednn_isa_avx512();

// Whether f32 Linear layers (kernels::cpu::linear, linear_add) and convolutions (conv2d, all but 1x1) run on
// oneDNN here rather than on OpenBLAS (im2col + sgemm for convolutions): where its effective ISA is AVX-512 or above.
// There its kernels are faster on the model's shapes (matmul 4-20%, the neck's 3x3 convolutions ~25%), each row of a
// matmul is the same bits whatever the row and thread counts (tests/unit/test_kernel_linear.cpp) and a
// convolution's output whatever the thread count (test_kernel_conv.cpp); on AVX2 (oneDNN's gemm:jit) the matmul rows
// are not, and the speed is OpenBLAS's (docs/precision.md).
bool onednn_f32();
// y[M,N] = x[M,K] · W[N,K]ᵀ (+ b[N], b may be null) (+ y when accumulate), all f32 row-major, W used in place.
// Returns false, computing nothing, when oneDNN has no kernel for it (the caller then takes OpenBLAS).
bool onednn_linear_f32(const float* x, const float* w, const float* b, float* y, int64_t M, int64_t N, int64_t K,
                       bool accumulate, int n_threads);
// kernels::cpu::conv2d's contract (kernels/cpu.h) on oneDNN's convolution, every tensor in its plain layout; false,
// computing nothing, when oneDNN has no kernel for it.
bool onednn_conv2d_f32(const float* x, int64_t cin, int64_t h, int64_t w_in, const float* w, int64_t cout, int64_t kh,
                       int64_t kw, const float* b, int stride, int pad, float* y, int n_threads);

}  // namespace sam3::kernels::cpu
