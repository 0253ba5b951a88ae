// sam3.cpp — reduced-precision linear layers on the CPU (see kernels/cpu.h): convert the activations (bf16, or u8
// per token), one oneDNN matmul on the packed weight, then (int8) dequantize in place.
#include <algorithm>
#include <cstring>

#include "core/parallel.h"
#include "kernels/cpu.h"
#include "kernels/packed_weight.h"
#include "kernels/quantize.h"

namespace sam3::kernels::cpu {

namespace {

constexpr int64_t kFallbackRows = 512;  // rows per sgemm in the bf16 fallback (bounds its scratch)

size_t align64(size_t n) { return (n + 63) / 64 * 64; }

// bf16 where oneDNN has no kernel: rows of bf16(x) in f32 times the weight expanded to f32.
void linear_bf16_fallback(const float* x, const ops::PackedWeight& w, const float* b, float* y, int64_t M,
                          void* scratch, int n_threads) {
  const int64_t N = w.n, K = w.k;
  auto* wf = static_cast<float*>(scratch);                              // [N,K]
  auto* xr = reinterpret_cast<float*>(static_cast<char*>(scratch) + align64(N * K * 4));  // [rows,K]
  const uint16_t* wb = w.bf16_plain.data();
  parallel_for(n_threads, N, [&](int64_t n) {
    for (int64_t k = 0; k < K; ++k) wf[n * K + k] = bf16_value(wb[n * K + k]);
  });
  for (int64_t m0 = 0; m0 < M; m0 += kFallbackRows) {
    const int64_t rows = std::min(kFallbackRows, M - m0);
    parallel_for(n_threads, rows, [&](int64_t r) {
      const float* src = x + (m0 + r) * K;
      for (int64_t k = 0; k < K; ++k) xr[r * K + k] = round_bf16(src[k]);
    });
    linear(xr, wf, b, y + m0 * N, rows, N, K, n_threads);
  }
}

}  // namespace

size_t linear_packed_scratch_bytes(const ops::PackedWeight& w, int64_t M) {
  if (w.precision == Precision::BF16) {
    if (!w.onednn) return align64(w.n * w.k * 4) + align64(std::min(M, kFallbackRows) * w.k * 4);
    return align64(M * w.k * 2);
  }
  return align64(M * w.k) + align64(M * 8);  // u8 rows + (scale, zero) per row
}

void linear_packed(const float* x, const ops::PackedWeight& w, const float* b, float* y, int64_t M, void* scratch,
                   int n_threads) {
  const int64_t N = w.n, K = w.k;
  if (w.precision == Precision::BF16) {
    if (!w.onednn) return linear_bf16_fallback(x, w, b, y, M, scratch, n_threads);
    auto* xb = static_cast<uint16_t*>(scratch);
    parallel_for(n_threads, M, [&](int64_t m) {
      for (int64_t k = 0; k < K; ++k) xb[m * K + k] = bf16_bits(x[m * K + k]);
    });
    w.onednn->run(xb, b, y, M, n_threads);
    return;
  }
  // Int8.
  auto* xq = static_cast<uint8_t*>(scratch);
  auto* sa = reinterpret_cast<float*>(static_cast<char*>(scratch) + align64(M * K));
  auto* za = reinterpret_cast<int32_t*>(sa + M);
  parallel_for(n_threads, M,
               [&](int64_t m) { quantize_row_u8(x + m * K, K, w.act_levels, xq + m * K, sa + m, za + m); });
  if (w.onednn) {
    w.onednn->run(xq, nullptr, y, M, n_threads);  // s32 sums written where the floats go
  } else {
    const int8_t* q = w.s8_plain.data();
    parallel_for(n_threads, M, [&](int64_t m) {
      for (int64_t n = 0; n < N; ++n) {
        int32_t s = 0;
        for (int64_t k = 0; k < K; ++k) s += static_cast<int32_t>(xq[m * K + k]) * q[n * K + k];
        std::memcpy(y + m * N + n, &s, 4);
      }
    });
  }
  parallel_for(n_threads, M, [&](int64_t m) {
    dequantize_row(y + m * N, N, sa[m], za[m], w.scale.data(), w.colsum.data(), b, y + m * N);
  });
}

}  // namespace sam3::kernels::cpu
