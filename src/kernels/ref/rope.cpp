// sam3.cpp — reference RoPE: one complex multiplication per pair, written out.
// ref: sam3/model/vitdet.py (apply_rotary_enc)
#include "kernels/ref.h"

namespace sam3::kernels::ref {

void rope(const ops::RopeArgs& a) {
  const int64_t half = a.head_dim / 2;
  for (int64_t i = 0; i < a.n_rows; ++i) {
    const int64_t p = a.pos ? a.pos[i] : i % a.table_rows;
    const float* t = a.table + p * half * 2;
    for (int64_t h = 0; h < a.n_heads; ++h) {
      float* v = a.x + i * a.row + h * a.head;
      for (int64_t j = 0; j < half; ++j) {
        const float re = v[2 * j], im = v[2 * j + 1];
        const float c = t[2 * j], s = t[2 * j + 1];
        v[2 * j] = re * c - im * s;
        v[2 * j + 1] = re * s + im * c;
      }
    }
  }
}

}  // namespace sam3::kernels::ref
