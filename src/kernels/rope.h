// sam3.cpp — RoPE kernels (ops::rope): the naive reference and the optimised CPU kernel. Same contract as
// ops::RopeArgs in core/ops.h; the arguments are already checked by ops::rope.
#pragma once
#include "core/ops.h"

namespace sam3::kernels::ref {
void rope(const ops::RopeArgs& a);
}  // namespace sam3::kernels::ref

namespace sam3::kernels::cpu {
void rope(const ops::RopeArgs& a, int n_threads);
}  // namespace sam3::kernels::cpu
