// sam3.cpp — int8 quantization arithmetic (see kernels/quantize.h).
#include "kernels/quantize.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sam3::kernels {

void quantize_weights_s8(const float* w, int64_t N, int64_t K, int8_t* q, float* scale, int32_t* colsum) {
  for (int64_t n = 0; n < N; ++n) {
    const float* row = w + n * K;
    float amax = 0;
    for (int64_t k = 0; k < K; ++k) amax = std::max(amax, std::fabs(row[k]));
    const float s = amax > 0 ? amax / 127.0f : 1.0f;
    int32_t sum = 0;
    for (int64_t k = 0; k < K; ++k) {
      const float v = std::nearbyint(row[k] / s);
      const int32_t qi = static_cast<int32_t>(std::min(127.0f, std::max(-127.0f, v)));
      q[n * K + k] = static_cast<int8_t>(qi);
      sum += qi;
    }
    scale[n] = s;
    colsum[n] = sum;
  }
}

bool s8_row_sums(const int8_t* q, int64_t N, int64_t K, int32_t* colsum) {
  for (int64_t n = 0; n < N; ++n) {
    const int8_t* row = q + n * K;
    int32_t sum = 0;
    int lowest = 0;  // min over the row (both loops vectorise)
    for (int64_t k = 0; k < K; ++k) sum += row[k];
    for (int64_t k = 0; k < K; ++k) lowest = std::min<int>(lowest, row[k]);
    if (lowest == -128) return false;
    colsum[n] = sum;
  }
  return true;
}

const float* f16_value_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t h = 0; h < 65536; ++h) t[h] = f16_value(static_cast<uint16_t>(h));
    return t;
  }();
  return table.data();
}

uint16_t f16_bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));  // NaN, quiet
  if (ax >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520: rounds to inf
  if (ax < 0x38800000u) {  // below 2^-14: a subnormal (or zero) f16, |f| · 2^24 rounded to an integer (ties even)
    float a;
    std::memcpy(&a, &ax, 4);
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(std::nearbyint(a * 16777216.0f)));
  }
  const uint32_t r = ax + 0xfffu + ((ax >> 13) & 1u) - (112u << 23);  // rebias 127 -> 15, round the 13 dropped bits
  return static_cast<uint16_t>(sign | (r >> 13));
}

void quantize_row_u8(const float* x, int64_t K, int levels, uint8_t* q, float* scale, int32_t* zero) {
  float lo = 0, hi = 0;
  for (int64_t k = 0; k < K; ++k) {
    lo = std::min(lo, x[k]);
    hi = std::max(hi, x[k]);
  }
  const float s = hi > lo ? (hi - lo) / static_cast<float>(levels) : 1.0f;
  const float inv = 1.0f / s;
  const int32_t z = static_cast<int32_t>(std::nearbyint(-lo * inv));
  const float zf = static_cast<float>(z), top = static_cast<float>(levels);
  for (int64_t k = 0; k < K; ++k) {
    const float v = std::nearbyint(x[k] * inv) + zf;
    q[k] = static_cast<uint8_t>(std::min(top, std::max(0.0f, v)));
  }
  *scale = s;
  *zero = z;
}

void dequantize_row(const void* acc, int64_t N, float sa, int32_t za, const float* sw, const int32_t* colsum,
                    const float* b, float* y) {
  const auto* a = static_cast<const unsigned char*>(acc);
  for (int64_t n = 0; n < N; ++n) {
    int32_t v;
    std::memcpy(&v, a + n * 4, 4);
    const float r = sa * sw[n] * static_cast<float>(v - za * colsum[n]) + (b ? b[n] : 0.0f);
    std::memcpy(y + n, &r, 4);
  }
}

}  // namespace sam3::kernels
