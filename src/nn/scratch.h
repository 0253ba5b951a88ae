// sam3.cpp — sizing scratch arenas from the shapes a forward pass allocates (no hand-computed byte counts).
#pragma once
#include <cstddef>

#include "core/tensor.h"

namespace sam3::nn {

// Bytes one Arena::alloc(shape, dtype) takes: the payload rounded up to the arena's 64-byte alignment
// (core/arena.cpp; tests/unit/test_tensor_core.cpp, Arena.BytesMatchArenaBytes, checks the two agree).
inline size_t arena_bytes(const Shape& shape, DType dtype = DType::F32) {
  const size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  return (bytes + 63) / 64 * 64;
}

}  // namespace sam3::nn
