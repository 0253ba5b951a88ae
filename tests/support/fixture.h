// sam3.cpp — test helpers for comparing our tensors with the golden fixtures made by the official PyTorch code.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "core/tensor.h"
#include "io/safetensors.h"

namespace sam3::test {

// Absolute path of a file under ../shared/golden.
std::string golden_path(const std::string& rel);
// Opens a fixture safetensors file (fails the test with a clear message if it is absent).
TensorFile open_fixture(const std::string& rel);

struct CompareStats {
  double max_abs = 0;      // max |a - b|
  double max_rel = 0;      // max |a - b| / (|b| + 1e-12), over elements with |b| > scale * 1e-3
  double ref_scale = 0;    // max |b|
  double cosine = 1;       // cosine similarity of a and b as flat vectors
  int64_t first_bad = -1;  // flat index of the first element with |a-b| > atol + rtol*|b|, or -1
  int64_t n_bad = 0;
  std::string where;       // first_bad as a multi-index, with both values
};

// Element-wise comparison of `actual` against `expected` (same numel; both F32, or integer types converted).
CompareStats compare(const Tensor& actual, const Tensor& expected, double atol, double rtol);

// GoogleTest assertion: shapes equal and every element within atol + rtol*|expected|. On failure prints the stats
// and the first disagreement.
::testing::AssertionResult tensors_close(const Tensor& actual, const Tensor& expected, double atol, double rtol);

}  // namespace sam3::test
