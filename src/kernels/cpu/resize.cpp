// sam3.cpp — optimised resize kernels: the same arithmetic as kernels/ref/resize.cpp (see kernels/resize_taps.h),
// organised for speed. Anti-aliased resize = two threaded passes:
//   1. W pass, in bands of 8 input rows: the band is converted to float and transposed, T[k][8] = row l's k-th
//      element, so that the 8 rows become the 8 SIMD lanes (all lanes share the output column's taps, weights and
//      FMA split), giving tmp [C, H, out_w] float;
//   2. H pass, one output row at a time, vectorised along the row (all lanes share the row's taps).
// Every lane performs exactly the reference's scalar operation sequence (explicit mul+add or fma, no contraction),
// so the results are bit-identical to ref. With AVX2+FMA the loops use intrinsics; otherwise portable scalar loops
// (same results).
// ref: torch aten/src/ATen/native/cpu/UpSampleKernel.cpp (separable_upsample_generic_Nd_kernel_impl)
#include "core/strict_fp.h"  // no FMA contraction: see that header

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "kernels/cpu.h"
#include "kernels/resize_taps.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define SAM3_RESIZE_AVX2 1
#else
#define SAM3_RESIZE_AVX2 0
#endif

namespace sam3::kernels::cpu {
namespace {

constexpr int kLanes = 8;  // rows per band in the W pass = floats per SIMD vector

void check(const ops::U8Planes& in, int64_t out_h, int64_t out_w) {
  if (!in.data || in.channels <= 0 || in.height <= 0 || in.width <= 0 || out_h <= 0 || out_w <= 0)
    throw Error("resize_aa: empty input or output (" + std::to_string(in.channels) + "x" + std::to_string(in.height) +
                "x" + std::to_string(in.width) + " -> " + std::to_string(out_h) + "x" + std::to_string(out_w) + ")");
}

// Splits [0, n) into about 4 chunks per thread (load balance) and runs f(begin, end) on each.
template <class F>
void parallel_chunks(int n_threads, int64_t n, F&& f) {
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(n, int64_t{4} * std::max(1, n_threads)));
  const int64_t per = (n + chunks - 1) / chunks;
  parallel_for(n_threads, chunks, [&](int64_t k) {
    const int64_t b = k * per, e = std::min(n, b + per);
    if (b < e) f(b, e);
  });
}

#if SAM3_RESIZE_AVX2
// In-register 8x8 transpose: on return r[k][l] = old r[l][k].
inline void transpose8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}
#endif

// T[k * 8 + l] = float(rows[l][k * step]) for k in [0, n): an 8-row band of uint8 spans, transposed.
void transpose_band(const uint8_t* const rows[kLanes], int64_t n, int64_t step, float* T) {
  int64_t k = 0;
#if SAM3_RESIZE_AVX2
  if (step == 1) {
    for (; k + 8 <= n; k += 8) {
      __m256 r[kLanes];
      for (int l = 0; l < kLanes; ++l) {
        const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(rows[l] + k));
        r[l] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
      }
      transpose8(r);
      for (int l = 0; l < kLanes; ++l) _mm256_storeu_ps(T + (k + l) * kLanes, r[l]);
    }
  }
#endif
  for (; k < n; ++k)
    for (int l = 0; l < kLanes; ++l) T[k * kLanes + l] = static_cast<float>(rows[l][k * step]);
}

// One output column of the W pass for the 8 rows of a band: acc[l] = sum over taps of src[j * step + l] * w[j]
// with the reference's mul+add / fma split.
inline void w_column(const float* src, int64_t step, const float* w, int64_t n, float* acc) {
  const int64_t plain = (n - 1) - (n - 1) % 4;
#if SAM3_RESIZE_AVX2
  __m256 a = _mm256_mul_ps(_mm256_loadu_ps(src), _mm256_set1_ps(w[0]));
  int64_t j = 1;
  for (; j <= plain; ++j) a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_loadu_ps(src + j * step), _mm256_set1_ps(w[j])));
  for (; j < n; ++j) a = _mm256_fmadd_ps(_mm256_loadu_ps(src + j * step), _mm256_set1_ps(w[j]), a);
  _mm256_storeu_ps(acc, a);
#else
  for (int l = 0; l < kLanes; ++l) acc[l] = src[l] * w[0];
  int64_t j = 1;
  for (; j <= plain; ++j)
    for (int l = 0; l < kLanes; ++l) acc[l] = acc[l] + src[j * step + l] * w[j];
  for (; j < n; ++j)
    for (int l = 0; l < kLanes; ++l) acc[l] = std::fma(src[j * step + l], w[j], acc[l]);
#endif
}

// W pass of one channel of a band of `rows` (<= 8) rows starting at y0. The channel's k-th input element of row l
// is T[(k * pix + off) * 8 + l]. Writes tmp_plane[(y0 + l) * out_w + ox].
void w_pass_band(const float* T, int64_t pix, int64_t off, int64_t rows, const AATaps& tw, int64_t out_w,
                 float* tmp_plane, int64_t y0) {
  const int64_t step = pix * kLanes;
  alignas(32) float block[kLanes][kLanes];  // block[column][row]
  for (int64_t ox0 = 0; ox0 < out_w; ox0 += kLanes) {
    const int64_t cols = std::min<int64_t>(kLanes, out_w - ox0);
    for (int64_t i = 0; i < cols; ++i) {
      const size_t ox = static_cast<size_t>(ox0 + i);
      w_column(T + (tw.start[ox] * pix + off) * kLanes, step, &tw.weights[ox * static_cast<size_t>(tw.max_taps)],
               tw.count[ox], block[i]);
    }
#if SAM3_RESIZE_AVX2
    if (cols == kLanes) {
      __m256 r[kLanes];
      for (int i = 0; i < kLanes; ++i) r[i] = _mm256_load_ps(block[i]);
      transpose8(r);  // r[l] = row l's 8 columns
      for (int64_t l = 0; l < rows; ++l) _mm256_storeu_ps(tmp_plane + (y0 + l) * out_w + ox0, r[l]);
      continue;
    }
#endif
    for (int64_t l = 0; l < rows; ++l)
      for (int64_t i = 0; i < cols; ++i) tmp_plane[(y0 + l) * out_w + ox0 + i] = block[i][l];
  }
}

// Identity taps (an axis whose size is unchanged: torch skips that pass; v*1.0 is exact, so this is the same).
AATaps identity_taps(int64_t n) {
  AATaps t;
  t.max_taps = 1;
  t.start.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) t.start[static_cast<size_t>(i)] = i;
  t.count.assign(static_cast<size_t>(n), 1);
  t.weights.assign(static_cast<size_t>(n), 1.0f);
  return t;
}

// W pass of input rows [y_begin, y_end) into tmp [C, y_end - y_begin, out_w]; T is scratch for one band.
void w_pass_rows(const ops::U8Planes& in, const AATaps& tw, int64_t out_w, int64_t y_begin, int64_t y_end, float* tmp,
                 std::vector<float>& T) {
  const int64_t C = in.channels, W = in.width, rows_total = y_end - y_begin;
  // Interleaved pixels (HWC: x_stride == C, c_stride == 1) are transposed as one contiguous span of C*W bytes per
  // row and every channel reads its own offset; otherwise each channel plane is transposed separately.
  const bool interleaved = in.c_stride == 1 && in.x_stride == C;
  T.resize(static_cast<size_t>((interleaved ? C : 1) * W * kLanes));
  for (int64_t y0 = y_begin; y0 < y_end; y0 += kLanes) {
    const int64_t rows = std::min<int64_t>(kLanes, y_end - y0);
    const uint8_t* rp[kLanes];
    for (int64_t c = 0; c < C; ++c) {
      if (!interleaved || c == 0) {
        const uint8_t* plane = in.data + (interleaved ? 0 : c * in.c_stride);
        for (int64_t l = 0; l < kLanes; ++l) rp[l] = plane + (y0 + std::min<int64_t>(l, rows - 1)) * in.y_stride;
        if (interleaved) transpose_band(rp, C * W, 1, T.data());
        else transpose_band(rp, W, in.x_stride, T.data());
      }
      w_pass_band(T.data(), interleaved ? C : 1, interleaved ? c : 0, rows, tw, out_w, tmp + c * rows_total * out_w,
                  y0 - y_begin);
    }
  }
}

// One output row of the H pass: out[x] = sum over taps j of base[j * stride + x] * w[j] (mul+add / fma split).
void h_row(const float* base, int64_t stride, const float* w, int64_t n, int64_t width, float* out) {
  const int64_t plain = (n - 1) - (n - 1) % 4;
  int64_t x = 0;
#if SAM3_RESIZE_AVX2
  for (; x + kLanes <= width; x += kLanes) {
    __m256 a = _mm256_mul_ps(_mm256_loadu_ps(base + x), _mm256_set1_ps(w[0]));
    int64_t j = 1;
    for (; j <= plain; ++j)
      a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_loadu_ps(base + j * stride + x), _mm256_set1_ps(w[j])));
    for (; j < n; ++j) a = _mm256_fmadd_ps(_mm256_loadu_ps(base + j * stride + x), _mm256_set1_ps(w[j]), a);
    _mm256_storeu_ps(out + x, a);
  }
#endif
  for (; x < width; ++x) {
    float a = base[x] * w[0];
    int64_t j = 1;
    for (; j <= plain; ++j) a = a + base[j * stride + x] * w[j];
    for (; j < n; ++j) a = std::fma(base[j * stride + x], w[j], a);
    out[x] = a;
  }
}

// Round half to even (the default rounding mode, as torch.round) and clamp to [0, 255].
void round_to_u8(const float* in, int64_t n, uint8_t* out) {
  int64_t x = 0;
#if SAM3_RESIZE_AVX2
  const __m256 lo = _mm256_setzero_ps(), hi = _mm256_set1_ps(255.0f);
  for (; x + 8 <= n; x += 8) {
    __m256 v = _mm256_round_ps(_mm256_loadu_ps(in + x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
    const __m256i i32 = _mm256_cvtps_epi32(v);
    const __m256i i16 = _mm256_packus_epi32(i32, i32);  // per 128-bit half: a0..a3 a0..a3 | a4..a7 a4..a7
    const __m256i i8 = _mm256_packus_epi16(i16, i16);
    const __m128i both = _mm_unpacklo_epi32(_mm256_castsi256_si128(i8), _mm256_extracti128_si256(i8, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + x), both);
  }
#endif
  for (; x < n; ++x) out[x] = static_cast<uint8_t>(std::min(std::max(std::nearbyint(in[x]), 0.0f), 255.0f));
}

// Output rows are processed in strips of kStrip: each strip runs the W pass on just the input rows its taps read
// (into a per-thread buffer that is reused: no page faults, stays in cache), then the H pass. Strips overlap by a
// few input rows, which are recomputed identically.
constexpr int64_t kStrip = 32;

template <class Sink>
void resize_aa(const ops::U8Planes& in, int64_t out_h, int64_t out_w, int n_threads, const Sink& sink) {
  check(in, out_h, out_w);
  const int64_t C = in.channels;
  const AATaps tw = in.width == out_w ? identity_taps(out_w) : aa_bilinear_taps(in.width, out_w);
  const AATaps th = in.height == out_h ? identity_taps(out_h) : aa_bilinear_taps(in.height, out_h);
  const int64_t strips = (out_h + kStrip - 1) / kStrip;
  parallel_chunks(n_threads, strips, [&](int64_t sb, int64_t se) {
    std::vector<float> tmp, T, row(static_cast<size_t>(out_w));
    for (int64_t s = sb; s < se; ++s) {
      const int64_t oy0 = s * kStrip, oy1 = std::min(out_h, oy0 + kStrip);
      int64_t y_begin = th.start[static_cast<size_t>(oy0)], y_end = y_begin;
      for (int64_t oy = oy0; oy < oy1; ++oy) {
        const size_t so = static_cast<size_t>(oy);
        y_begin = std::min(y_begin, th.start[so]);
        y_end = std::max(y_end, th.start[so] + th.count[so]);
      }
      const int64_t rows = y_end - y_begin;
      tmp.resize(static_cast<size_t>(C * rows * out_w));
      w_pass_rows(in, tw, out_w, y_begin, y_end, tmp.data(), T);
      for (int64_t c = 0; c < C; ++c) {
        for (int64_t oy = oy0; oy < oy1; ++oy) {
          const size_t so = static_cast<size_t>(oy);
          const float* base = tmp.data() + (c * rows + (th.start[so] - y_begin)) * out_w;
          h_row(base, out_w, &th.weights[so * static_cast<size_t>(th.max_taps)], th.count[so], out_w, row.data());
          sink(c, oy, row.data());
        }
      }
    }
  });
}

}  // namespace

void resize_aa_f32(const ops::U8Planes& in, int64_t out_h, int64_t out_w, float* out, int n_threads) {
  resize_aa(in, out_h, out_w, n_threads, [&](int64_t c, int64_t oy, const float* row) {
    std::memcpy(out + (c * out_h + oy) * out_w, row, static_cast<size_t>(out_w) * sizeof(float));
  });
}

void resize_aa_u8(const ops::U8Planes& in, int64_t out_h, int64_t out_w, uint8_t* out, int n_threads) {
  resize_aa(in, out_h, out_w, n_threads,
            [&](int64_t c, int64_t oy, const float* row) { round_to_u8(row, out_w, out + (c * out_h + oy) * out_w); });
}

namespace {

void check_bilinear_args(const float* in, int64_t n, int64_t h, int64_t w, int64_t out_h, int64_t out_w) {
  if (!in || n < 0 || h <= 0 || w <= 0 || out_h <= 0 || out_w <= 0)
    throw Error("upsample_bilinear: empty input or output (" + std::to_string(h) + "x" + std::to_string(w) + " -> " +
                std::to_string(out_h) + "x" + std::to_string(out_w) + ")");
}

// The two input rows output row ky (of n maps of out_h rows) reads, and their weights.
struct BilinearRow {
  const float* r0;
  const float* r1;
  float h0, h1;
};
BilinearRow bilinear_row(const float* in, int64_t ky, int64_t h, int64_t w, int64_t out_h, const LinearTaps& ty) {
  const int64_t k = ky / out_h;
  const size_t sy = static_cast<size_t>(ky % out_h);
  return {in + (k * h + ty.i0[sy]) * w, in + (k * h + ty.i1[sy]) * w, ty.l0[sy], ty.l1[sy]};
}

// Output column sx of that row from its four taps a = r0[x0], b = r0[x1], c = r1[x0], d = r1[x1] (both kernels
// use this one expression, so the thresholded kernel decides exactly on upsample_bilinear_f32's values).
inline float bilinear_value(const BilinearRow& r, const LinearTaps& tx, size_t sx, float a, float b, float c, float d) {
  const float w00 = r.h0 * tx.l0[sx], w01 = r.h0 * tx.l1[sx], w10 = r.h1 * tx.l0[sx], w11 = r.h1 * tx.l1[sx];
  return static_cast<float>(static_cast<double>(a) * w00 + static_cast<double>(b) * w01 +
                            static_cast<double>(c) * w10 + static_cast<double>(d) * w11);
}

}  // namespace

void upsample_bilinear_f32(const float* in, int64_t n, int64_t h, int64_t w, float* out, int64_t out_h,
                           int64_t out_w, int n_threads) {
  check_bilinear_args(in, n, h, w, out_h, out_w);
  const LinearTaps ty = linear_taps(h, out_h), tx = linear_taps(w, out_w);
  parallel_chunks(n_threads, n * out_h, [&](int64_t b, int64_t e) {
    for (int64_t ky = b; ky < e; ++ky) {
      const BilinearRow r = bilinear_row(in, ky, h, w, out_h, ty);
      float* dst = out + ky * out_w;
      for (int64_t x = 0; x < out_w; ++x) {
        const size_t sx = static_cast<size_t>(x);
        const int64_t x0 = tx.i0[sx], x1 = tx.i1[sx];
        dst[x] = bilinear_value(r, tx, sx, r.r0[x0], r.r0[x1], r.r1[x0], r.r1[x1]);
      }
    }
  });
}

void upsample_bilinear_threshold_u8(const float* in, int64_t n, int64_t h, int64_t w, float thr, uint8_t* out,
                                    int64_t out_h, int64_t out_w, int n_threads) {
  check_bilinear_args(in, n, h, w, out_h, out_w);
  const LinearTaps ty = linear_taps(h, out_h), tx = linear_taps(w, out_w);
  // Runs of output columns that read the same two input columns: [run[r], run[r + 1]).
  std::vector<int64_t> run{0};
  for (int64_t x = 1; x < out_w; ++x)
    if (tx.i0[static_cast<size_t>(x)] != tx.i0[static_cast<size_t>(x - 1)] ||
        tx.i1[static_cast<size_t>(x)] != tx.i1[static_cast<size_t>(x - 1)])
      run.push_back(x);
  run.push_back(out_w);
  // With threshold 0 the sign decides: the weights are >= 0 and the largest of the four is >= 1/4, so four taps
  // > kTiny give a sum > 0 that stays > 0 as a float (no underflow), four taps <= 0 a sum <= 0. Mixed runs, and
  // every run for another threshold, compute the values exactly as upsample_bilinear_f32.
  constexpr float kTiny = 1e-30f;
  const bool by_sign = thr == 0.0f;
  parallel_chunks(n_threads, n * out_h, [&](int64_t b, int64_t e) {
    for (int64_t ky = b; ky < e; ++ky) {
      const BilinearRow row = bilinear_row(in, ky, h, w, out_h, ty);
      uint8_t* dst = out + ky * out_w;
      for (size_t r = 0; r + 1 < run.size(); ++r) {
        const int64_t xb = run[r], xe = run[r + 1];
        const int64_t x0 = tx.i0[static_cast<size_t>(xb)], x1 = tx.i1[static_cast<size_t>(xb)];
        const float a = row.r0[x0], bb = row.r0[x1], c = row.r1[x0], d = row.r1[x1];
        if (by_sign) {
          if (a > kTiny && bb > kTiny && c > kTiny && d > kTiny) {
            std::memset(dst + xb, 1, static_cast<size_t>(xe - xb));
            continue;
          }
          if (a <= 0.0f && bb <= 0.0f && c <= 0.0f && d <= 0.0f) {
            std::memset(dst + xb, 0, static_cast<size_t>(xe - xb));
            continue;
          }
        }
        for (int64_t x = xb; x < xe; ++x)
          dst[x] = bilinear_value(row, tx, static_cast<size_t>(x), a, bb, c, d) > thr ? 1 : 0;
      }
    }
  });
}

}  // namespace sam3::kernels::cpu
