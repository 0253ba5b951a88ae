// sam3.cpp — vectorised transcendental functions for the CPU kernels (AVX2 + FMA, 8 floats per call; the softmax
// ones also for AVX-512, 16 per call), each with a scalar twin that evaluates the same approximation, for tails and
// non-AVX2 builds.
//
// exp: Cephes-style range reduction x = n·ln2 + r, |r| ≤ ln2/2, degree-6 polynomial, 2ⁿ built in the exponent
//      bits. Max relative error ≈ 1 eps on [-87.3, 88.3]; returns exactly 0 below -87.33 (also for -inf), so
//      masked attention scores contribute nothing; NaN propagates; saturates at e^88.38 instead of +inf.
// exp2_softmax: 2^x for x ≤ 127 (softmax arguments, ≤ 0): n = round(x), r = x - n ∈ [-½, ½], a degree-6
//      polynomial fitted here for relative error (Lawson-weighted least squares; 1.9e-9 in exact arithmetic,
//      0.66 eps measured in float Horner), 2ⁿ in the exponent bits. x < -126.5 (incl. -inf) gives 0; NaN propagates.
//      13 vector ops instead of exp_ps's 20: attention folds log2(e) into its scores and uses this.
// erf: N. Juffa's single-precision minimax approximation: |x| ≤ 0.9277: x + x·P(x²); above: 1 - exp(Q(|x|)),
//      sign restored, exp evaluated as exp2_softmax(Q·log2 e). Both branches are computed and blended (a branch on
//      the lane mix mispredicts constantly on activations). Measured max error vs double erf on [-10, 10]:
//      7.3e-8 absolute (5.9e-8 with libm exp), ≈1.2 ulp near 1. tests/unit/test_kernel_gelu.cpp checks all three.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__AVX2__) && defined(__FMA__)
#define SAM3_AVX2 1
#endif

namespace sam3::kernels::simd {

// Constants shared by the vector and scalar versions.
namespace c {
constexpr float kExpLo = -87.3365402f;  // ln(2^-126): below this exp returns 0
constexpr float kExpHi = 88.3762589f;
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f, kP3 = 4.1665795894e-2f,
                kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;
constexpr float kExp2Lo = -127.0f;
constexpr float kE0 = 1.0f, kE1 = 6.931472057e-01f, kE2 = 2.402264689e-01f, kE3 = 5.550328777e-02f,
                kE4 = 9.618488959e-03f, kE5 = 1.339993122e-03f, kE6 = 1.534581160e-04f;
constexpr float kErfSplit = 0.927734375f;
// |x| ≤ split: erf(x) = x + x·s·... (s = x²)
constexpr float kA0 = -5.96761703e-4f, kA1 = 4.99119423e-3f, kA2 = -2.67681349e-2f, kA3 = 1.12819925e-1f,
                kA4 = -3.76125336e-1f, kA5 = 1.28379166e-1f;
// |x| > split: erf(|x|) = 1 - exp(r(t)), t = |x|
constexpr float kB0 = -1.72853470e-5f, kB1 = 3.83197126e-4f, kB2 = -3.88396438e-3f, kB3 = 2.42546219e-2f,
                kB4 = -1.06777877e-1f, kB5 = -6.34846687e-1f, kB6 = -1.28717512e-1f;
}  // namespace c

inline float exp_scalar(float x) {
  if (!(x >= c::kExpLo)) return x != x ? x : 0.0f;
  if (x > c::kExpHi) x = c::kExpHi;
  float n = std::nearbyint(x * c::kLog2e);
  float r = std::fma(-n, c::kLn2Hi, x);
  r = std::fma(-n, c::kLn2Lo, r);
  float p = c::kP0;
  p = std::fma(p, r, c::kP1);
  p = std::fma(p, r, c::kP2);
  p = std::fma(p, r, c::kP3);
  p = std::fma(p, r, c::kP4);
  p = std::fma(p, r, c::kP5);
  p = std::fma(p, r * r, r + 1.0f);
  return std::ldexp(p, static_cast<int>(n));
}

inline float exp2_softmax_scalar(float x) {
  if (x != x) return x;
  x = std::max(x, c::kExp2Lo);
  const float n = std::nearbyint(x), r = x - n;
  float p = c::kE6;
  p = std::fma(p, r, c::kE5);
  p = std::fma(p, r, c::kE4);
  p = std::fma(p, r, c::kE3);
  p = std::fma(p, r, c::kE2);
  p = std::fma(p, r, c::kE1);
  p = std::fma(p, r, c::kE0);
  return n <= c::kExp2Lo ? 0.0f : std::ldexp(p, static_cast<int>(n));
}

inline float erf_scalar(float x) {
  const float t = std::fabs(x), s = x * x;
  if (t > c::kErfSplit) {
    float r = std::fma(c::kB0, t, c::kB1);
    float u = std::fma(c::kB2, t, c::kB3);
    r = std::fma(r, s, u);
    r = std::fma(r, t, c::kB4);
    r = std::fma(r, t, c::kB5);
    r = std::fma(r, t, c::kB6);
    r = std::fma(r, t, -t);
    return std::copysign(1.0f - exp2_softmax_scalar(r * c::kLog2e), x);
  }
  float r = c::kA0;
  r = std::fma(r, s, c::kA1);
  r = std::fma(r, s, c::kA2);
  r = std::fma(r, s, c::kA3);
  r = std::fma(r, s, c::kA4);
  r = std::fma(r, s, c::kA5);
  return std::fma(r, x, x);
}

#ifdef SAM3_AVX2
inline __m256 exp_ps(__m256 x) {
  // valid: x ≥ lo or NaN (false for -inf and underflow). max/min return their second operand when either is NaN,
  // so a NaN input flows through to the result.
  const __m256 valid = _mm256_cmp_ps(x, _mm256_set1_ps(c::kExpLo), _CMP_NLT_UQ);
  x = _mm256_min_ps(_mm256_set1_ps(c::kExpHi), _mm256_max_ps(_mm256_set1_ps(c::kExpLo), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(c::kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(c::kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(c::kLn2Lo), r);
  __m256 p = _mm256_set1_ps(c::kP0);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c::kP1));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c::kP2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c::kP3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c::kP4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c::kP5));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2ⁿ in the exponent bits: n ∈ [-126, 127] after the clamp (kExpHi·log2e < 127.5).
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  p = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  return _mm256_and_ps(p, valid);
}

inline __m256 exp2_softmax_ps(__m256 x) {
  x = _mm256_max_ps(_mm256_set1_ps(c::kExp2Lo), x);  // NaN (second operand) passes through
  const __m256 n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 r = _mm256_sub_ps(x, n);
  __m256 p = _mm256_set1_ps(c::kE6);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c::kE5));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c::kE4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c::kE3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c::kE2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c::kE1));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c::kE0));
  // n = -127 gives exponent field 0: the float 0, so the result underflows to exactly 0.
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

inline __m256 erf_ps(__m256 x) {
  // Both branches, blended: branch-free (a per-vector branch on the lane mix mispredicts constantly on
  // activations, whose |x| straddles the split).
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 t = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 s = _mm256_mul_ps(x, x);
  const __m256 big = _mm256_cmp_ps(t, _mm256_set1_ps(c::kErfSplit), _CMP_GT_OQ);
  __m256 r = _mm256_set1_ps(c::kA0);
  r = _mm256_fmadd_ps(r, s, _mm256_set1_ps(c::kA1));
  r = _mm256_fmadd_ps(r, s, _mm256_set1_ps(c::kA2));
  r = _mm256_fmadd_ps(r, s, _mm256_set1_ps(c::kA3));
  r = _mm256_fmadd_ps(r, s, _mm256_set1_ps(c::kA4));
  r = _mm256_fmadd_ps(r, s, _mm256_set1_ps(c::kA5));
  const __m256 small_r = _mm256_fmadd_ps(r, x, x);
  __m256 q = _mm256_fmadd_ps(_mm256_set1_ps(c::kB0), t, _mm256_set1_ps(c::kB1));
  const __m256 u = _mm256_fmadd_ps(_mm256_set1_ps(c::kB2), t, _mm256_set1_ps(c::kB3));
  q = _mm256_fmadd_ps(q, s, u);
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(c::kB4));
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(c::kB5));
  q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(c::kB6));
  q = _mm256_fmsub_ps(q, t, t);
  const __m256 big_r = _mm256_or_ps(
      _mm256_sub_ps(_mm256_set1_ps(1.0f), exp2_softmax_ps(_mm256_mul_ps(q, _mm256_set1_ps(c::kLog2e)))), sign);
  return _mm256_blendv_ps(small_r, big_r, big);
}

// The sum / the max of the 8 lanes.
inline float hsum_ps(__m256 a) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}
inline float hmax_ps(__m256 a) {
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

// The nearest bf16 (ties to even) of each lane, as a float: kernels/quantize.h's round_bf16, 8 at a time (NaN stays
// NaN).
inline __m256 round_bf16_ps(__m256 x) {
  const __m256i u = _mm256_castps_si256(x);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i r = _mm256_and_si256(_mm256_add_epi32(u, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), lsb)),
                                     _mm256_set1_epi32(static_cast<int>(0xffff0000u)));
  return _mm256_blendv_ps(_mm256_castsi256_ps(r), x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}
#endif

#if defined(__x86_64__)
// AVX-512 (F, BW, DQ, VL): compiled whatever the build's -march, for kernels that choose it at run time
// (kernels/cpu/attention_avx512.cpp, gelu.cpp); every function using it carries this attribute. exp2_softmax_ps,
// erf_ps and round_bf16_ps above, 16 lanes: the same operations lane by lane, so the same floats.
#define SAM3_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))

SAM3_AVX512 inline __m512 exp2_softmax_ps16(__m512 x) {
  x = _mm512_max_ps(_mm512_set1_ps(c::kExp2Lo), x);  // NaN (second operand) passes through
  const __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_sub_ps(x, n);
  __m512 p = _mm512_set1_ps(c::kE6);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c::kE5));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c::kE4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c::kE3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c::kE2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c::kE1));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c::kE0));
  const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

// erf_ps, 16 lanes (kernels/cpu/gelu.cpp): the same operations, so the same floats.
SAM3_AVX512 inline __m512 erf_ps16(__m512 x) {
  const __m512 sign = _mm512_and_ps(x, _mm512_set1_ps(-0.0f));
  const __m512 t = _mm512_andnot_ps(_mm512_set1_ps(-0.0f), x);
  const __m512 s = _mm512_mul_ps(x, x);
  const __mmask16 big = _mm512_cmp_ps_mask(t, _mm512_set1_ps(c::kErfSplit), _CMP_GT_OQ);
  __m512 r = _mm512_set1_ps(c::kA0);
  r = _mm512_fmadd_ps(r, s, _mm512_set1_ps(c::kA1));
  r = _mm512_fmadd_ps(r, s, _mm512_set1_ps(c::kA2));
  r = _mm512_fmadd_ps(r, s, _mm512_set1_ps(c::kA3));
  r = _mm512_fmadd_ps(r, s, _mm512_set1_ps(c::kA4));
  r = _mm512_fmadd_ps(r, s, _mm512_set1_ps(c::kA5));
  const __m512 small_r = _mm512_fmadd_ps(r, x, x);
  __m512 q = _mm512_fmadd_ps(_mm512_set1_ps(c::kB0), t, _mm512_set1_ps(c::kB1));
  const __m512 u = _mm512_fmadd_ps(_mm512_set1_ps(c::kB2), t, _mm512_set1_ps(c::kB3));
  q = _mm512_fmadd_ps(q, s, u);
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(c::kB4));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(c::kB5));
  q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(c::kB6));
  q = _mm512_fmsub_ps(q, t, t);
  const __m512 big_r = _mm512_or_ps(
      _mm512_sub_ps(_mm512_set1_ps(1.0f), exp2_softmax_ps16(_mm512_mul_ps(q, _mm512_set1_ps(c::kLog2e)))), sign);
  return _mm512_mask_blend_ps(big, small_r, big_r);
}

SAM3_AVX512 inline __m512 round_bf16_ps16(__m512 x) {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_and_si512(_mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), lsb)),
                                     _mm512_set1_epi32(static_cast<int>(0xffff0000u)));
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_mask_blend_ps(nan, _mm512_castsi512_ps(r), x);
}
#endif

// max_j s[j] (-inf for n = 0), AVX2 where available.
inline float max_of(const float* s, int64_t n) {
  int64_t j = 0;
  float mx = -INFINITY;
#ifdef SAM3_AVX2
  __m256 a = _mm256_set1_ps(-INFINITY), b = a;
  for (; j + 16 <= n; j += 16) {
    a = _mm256_max_ps(a, _mm256_loadu_ps(s + j));
    b = _mm256_max_ps(b, _mm256_loadu_ps(s + j + 8));
  }
  for (; j + 8 <= n; j += 8) a = _mm256_max_ps(a, _mm256_loadu_ps(s + j));
  mx = hmax_ps(_mm256_max_ps(a, b));
#endif
  for (; j < n; ++j) mx = std::max(mx, s[j]);
  return mx;
}

}  // namespace sam3::kernels::simd
