// sam3.cpp — LayerNorm. Provisional: the reference kernel on bands of rows, threaded.
#include <algorithm>

#include "core/parallel.h"
#include "kernels/cpu.h"
#include "kernels/ref.h"

namespace sam3::kernels::cpu {

void layer_norm(const float* x, const float* gamma, const float* beta, float eps, float* y, int64_t rows,
                int64_t C, int n_threads) {
  parallel_for(n_threads, rows, [&](int64_t r) { ref::layer_norm(x + r * C, gamma, beta, eps, y + r * C, 1, C); });
}

}  // namespace sam3::kernels::cpu
