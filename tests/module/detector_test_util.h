// sam3.cpp — shared helpers for the detector-head module tests (fusion encoder, decoder, scoring, mask head,
// post-processing): the standard tolerance, the fixture prompt, and reading back a Dumper's output. The tiny model
// and the cases are in tiny_fixture.h.
#pragma once
#include <gtest/gtest.h>

#include "core/dump.h"
#include "core/error.h"
#include "fixture.h"
#include "io/safetensors.h"
#include "model/fusion_encoder.h"
#include "tiny_fixture.h"

namespace sam3::test {

// The standard detector-head tolerance (docs/numerics.md, "Detector head"): element-wise
//   |ours - ref| <= kAtolScale·max|ref| + kAtolFloor + kRtol·|ref|.
// kAtolScale: 10× the largest max_abs/scale measured on any detector tensor (≈2e-7..3e-6); kAtolFloor: the
// reference's own noise on O(1) operands, for values that are small only through cancellation (e.g. a presence
// logit of 0.018 computed from terms of size ~1).
constexpr double kAtolScale = 2e-6, kAtolFloor = 1e-6, kRtol = 1e-5;
inline ::testing::AssertionResult matches_fixture(const Tensor& actual, const Tensor& ref, double* ratio = nullptr) {
  const CompareStats s = compare(actual, ref, 0, 0);
  if (ratio) *ratio = s.ref_scale > 0 ? s.max_abs / s.ref_scale : s.max_abs;
  return tensors_close(actual, ref, kAtolScale * s.ref_scale + kAtolFloor, kRtol);
}

// The fixture's prompt for a case (prompt.tokens (P,1,d), prompt.mask (1,P)).
inline PromptView fixture_prompt(const TensorFile& c) { return PromptView{c.get("prompt.tokens"), c.get("prompt.mask")}; }

// A Dumper writing into a fresh temporary directory; read_back() flushes it and returns the tensors.
class DumpCapture {
 public:
  DumpCapture() : dumper_(dir_.path()) {}
  Dumper* dumper() { return &dumper_; }
  TensorFile read_back() {
    dumper_.flush("capture");
    return read_safetensors(dir_.file("capture.safetensors"));
  }

 private:
  TempDir dir_;  // declared first: outlives the dumper
  Dumper dumper_;
};

}  // namespace sam3::test
