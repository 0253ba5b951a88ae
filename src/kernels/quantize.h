// sam3.cpp — the arithmetic of reduced precision, shared by the reference and the optimised kernels so that both
// round alike: bf16 conversion, int8 weight and activation quantization, dequantization.
//
//   bf16:  x -> the nearest bf16 (ties to even), as torch's float->bfloat16 and oneDNN's reorders round.
//   int8:  weights symmetric per output channel n:  sw[n] = max_k |w[n,k]| / 127,  qw = rint(w / sw) in [-127, 127];
//          activations asymmetric per row (token) m onto 0..L (L = 255, or 127 where the ISA's u8·s8 products
//          saturate 16-bit sums: AVX2 without VNNI):  lo = min(0, min x), hi = max(0, max x), sa = (hi - lo) / L,
//          za = rint(-lo / sa),  qa = clamp(rint(x / sa) + za, 0, L);
//          y[m,n] = sa[m] · sw[n] · (Σ_k qa[m,k]·qw[n,k] − za[m]·Σ_k qw[n,k]) + b[n]   (the sum exact in s32).
//   f16:   a storage format only (sam3 convert --dtype f16): IEEE binary16, x -> the nearest (ties to even);
//          f16 -> f32 is exact.
#pragma once
#include <cstdint>
#include <cstring>

namespace sam3::kernels {

inline uint16_t bf16_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // NaN stays a (quiet) NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
inline float bf16_value(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline float round_bf16(float f) { return bf16_value(bf16_bits(f)); }

// IEEE binary16. f16_value is exact; f16_bits rounds to nearest, ties to even, overflows to ±inf (|f| >= 65520)
// and keeps NaN a (quiet) NaN.
inline float f16_value(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  uint32_t u;
  if (e == 0) {  // zero or subnormal: m · 2^-24, exact in f32
    const float v = static_cast<float>(m) * 5.9604644775390625e-8f;
    std::memcpy(&u, &v, 4);
    u |= sign;
  } else if (e == 31) {
    u = sign | 0x7f800000u | (m << 13);
  } else {
    u = sign | ((e + 112u) << 23) | (m << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint16_t f16_bits(float f);
// f16_value of every bit pattern (a 256 KiB table built once): the fast path for whole tensors.
const float* f16_value_table();

// w[N,K] -> q[N,K], scale[N], colsum[N] = Σ_k q[n,k].
void quantize_weights_s8(const float* w, int64_t N, int64_t K, int8_t* q, float* scale, int32_t* colsum);
// colsum[N] = Σ_k q[n,k] of a weight quantized earlier (a converted file's). False, with colsum incomplete, if an
// entry is -128: quantize_weights_s8 never writes it (the range is symmetric, [-127, 127]).
bool s8_row_sums(const int8_t* q, int64_t N, int64_t K, int32_t* colsum);

// One row x[K] -> q[K] in 0..levels, its scale and zero point.
void quantize_row_u8(const float* x, int64_t K, int levels, uint8_t* q, float* scale, int32_t* zero);

// One row of the result: y[n] = sa·sw[n]·(acc[n] − za·colsum[n]) + (b ? b[n] : 0). `acc` may be the same memory
// as `y` (the s32 sums written where the floats go): each element is read before it is overwritten.
void dequantize_row(const void* acc, int64_t N, float sa, int32_t za, const float* sw, const int32_t* colsum,
                    const float* b, float* y);

}  // namespace sam3::kernels
