// sam3.cpp — ops::rope: argument checks, then the CPU kernel (kernels/cpu/rope.cpp).
#include <string>

#include "core/error.h"
#include "core/ops.h"
#include "kernels/rope.h"

namespace sam3::ops {

void rope(const RopeArgs& a, int n_threads) {
  auto fail = [](const std::string& m) { throw Error("ops::rope: " + m); };
  if (a.n_rows < 0 || a.n_heads < 0 || a.head_dim < 0) fail("negative size");
  if (a.n_rows == 0 || a.n_heads == 0 || a.head_dim == 0) return;
  if (!a.x || !a.table) fail("x and table are required");
  if (a.head_dim % 2) fail("head_dim must be even, got " + std::to_string(a.head_dim));
  if (a.table_rows <= 0) fail("table_rows must be positive");
  if (a.n_heads > 1 && a.head < a.head_dim) fail("heads overlap (head stride < head_dim)");
  if (a.n_rows > 1 && a.row < (a.n_heads - 1) * a.head + a.head_dim) fail("rows overlap (row stride too small)");
  if (a.pos) {
    for (int64_t i = 0; i < a.n_rows; ++i)
      if (a.pos[i] < 0 || a.pos[i] >= a.table_rows)
        fail("pos[" + std::to_string(i) + "] = " + std::to_string(a.pos[i]) + " outside the table's " +
             std::to_string(a.table_rows) + " rows");
  }
  kernels::cpu::rope(a, n_threads);
}

}  // namespace sam3::ops
