// sam3.cpp — RoPE on the CPU: rows in parallel; with AVX2 four complex pairs per instruction
// (x·cos ± swap(x)·sin via addsub, which gives exactly re·c − im·s and im·c + re·s like the reference).
// ref: sam3/model/vitdet.py (apply_rotary_enc)
#include "kernels/cpu.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "core/parallel.h"

namespace sam3::kernels::cpu {

namespace {

// One head vector v[2*half] times the complex row t[2*half].
inline void rotate(float* v, const float* t, int64_t half) {
  int64_t j = 0;
#if defined(__AVX2__)
  for (; j + 4 <= half; j += 4) {
    const __m256 x = _mm256_loadu_ps(v + 2 * j);     // re0 im0 re1 im1 ...
    const __m256 cs = _mm256_loadu_ps(t + 2 * j);    // c0 s0 c1 s1 ...
    const __m256 c = _mm256_moveldup_ps(cs);         // c0 c0 c1 c1 ...
    const __m256 s = _mm256_movehdup_ps(cs);         // s0 s0 s1 s1 ...
    const __m256 xs = _mm256_permute_ps(x, 0xB1);    // im0 re0 im1 re1 ...
    // even lanes: re·c − im·s ; odd lanes: im·c + re·s
    _mm256_storeu_ps(v + 2 * j, _mm256_addsub_ps(_mm256_mul_ps(x, c), _mm256_mul_ps(xs, s)));
  }
#endif
  for (; j < half; ++j) {
    const float re = v[2 * j], im = v[2 * j + 1];
    const float c = t[2 * j], s = t[2 * j + 1];
    v[2 * j] = re * c - im * s;
    v[2 * j + 1] = re * s + im * c;
  }
}

}  // namespace

void rope(const ops::RopeArgs& a, int n_threads) {
  const int64_t half = a.head_dim / 2;
  parallel_for(n_threads, a.n_rows, [&](int64_t i) {
    const int64_t p = a.pos ? a.pos[i] : i % a.table_rows;
    const float* t = a.table + p * half * 2;
    float* row = a.x + i * a.row;
    for (int64_t h = 0; h < a.n_heads; ++h) rotate(row + h * a.head, t, half);
  });
}

}  // namespace sam3::kernels::cpu
