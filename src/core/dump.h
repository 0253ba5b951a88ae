// sam3.cpp — intermediate-tensor dump hook (llama.cpp style). When the environment variable SAM3_DUMP names a
// directory, model code records its intermediates under the fixture names (`vit.block00`, `neck.fpn2`,
// `enc.memory`, `out.pred_masks`, ...; see ../shared/golden/tiny/manifest.json) and they are written as one
// safetensors file per stage, so any run can be diffed against a reference with tools/diff_dump.
//
// A Dumper is created by the caller of a forward pass (no global state); a disabled Dumper costs one branch.
#pragma once
#include <map>
#include <string>

#include "core/tensor.h"

namespace sam3 {

class Dumper {
 public:
  Dumper() = default;                 // disabled
  explicit Dumper(std::string dir);   // enabled, writing into dir (created if missing)
  static Dumper from_env();           // enabled iff SAM3_DUMP is set and non-empty

  bool enabled() const { return !dir_.empty(); }
  // Records a copy of t under `name` (no-op when disabled). Layout must be the fixture's layout.
  void add(const std::string& name, const Tensor& t);
  // Writes everything recorded so far to <dir>/<stage>.safetensors and clears it (no-op when disabled).
  void flush(const std::string& stage);

 private:
  std::string dir_;
  std::map<std::string, Tensor> pending_;
};

}  // namespace sam3
