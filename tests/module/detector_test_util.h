// sam3.cpp — shared helpers for the detector-head module tests (fusion encoder, decoder, scoring, mask head,
// post-processing, the reference back end): the standard tolerance, the fixture prompt and image levels, and reading
// back a Dumper's output. The tiny model and the cases are in tiny_fixture.h.
#pragma once
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/arena.h"
#include "core/dump.h"
#include "core/error.h"
#include "fixture.h"
#include "io/safetensors.h"
#include "model/fusion_encoder.h"
#include "model/image_embedding.h"
#include "model/neck.h"
#include "model/position_encoding.h"
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

// Neck levels 0 .. n-1 computed from the image fixture's trunk output (vit.out).
inline std::vector<Tensor> neck_levels_from_trunk(const TinyModel& m, const TensorFile& img, int n) {
  const Tensor& z = img.get("vit.out");  // [1, C, G, G]
  Neck neck(m.cfg, m.scope("backbone.vision_backbone.convs."), z.size(1), z.size(2));
  std::vector<Tensor> out;
  for (int i = 0; i < n; ++i) {
    Arena arena(neck.scratch_bytes(i));
    Tensor y = Tensor::empty({1, neck.out_dim(), neck.level_size(i), neck.level_size(i)});
    neck.forward_level(i, z, y, RunContext{2, &arena});
    out.push_back(y);
  }
  return out;
}

// Neck levels 0 .. n-1, finest first: as stored in the image fixture, or computed from its trunk output where not
// stored (groceries stores no fpn0/fpn1).
inline std::vector<Tensor> finer_levels(const TinyModel& m, const TensorFile& img, int n) {
  std::vector<Tensor> computed, out;
  for (int i = 0; i < n; ++i) {
    const std::string key = "neck.fpn" + std::to_string(i);
    if (img.has(key)) {
      out.push_back(img.get(key));
      continue;
    }
    if (computed.empty()) computed = neck_levels_from_trunk(m, img, n);
    out.push_back(computed[static_cast<size_t>(i)]);
  }
  return out;
}

// The image's embedding as the per-prompt model reads it: the used levels (finer_levels) and their sine position
// encodings (stored, or computed where not stored).
inline ImageFeatures fixture_features(const TinyModel& m, const TensorFile& img) {
  ImageFeatures f;
  f.fpn = finer_levels(m, img, m.cfg.fpn_levels_used());
  for (size_t i = 0; i < f.fpn.size(); ++i) {
    const std::string key = "neck.pos" + std::to_string(i);
    f.pos.push_back(img.has(key) ? img.get(key)
                                 : sine_position_encoding(m.cfg.pos_enc, f.fpn[i].size(-2), f.fpn[i].size(-1)));
  }
  return f;
}

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
