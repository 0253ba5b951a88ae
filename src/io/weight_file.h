// sam3.cpp — one entry point for model weights: the official torch checkpoint (sam3.pt) or our safetensors.
//
// Checkpoint layout (docs/weights.md, golden/tiny/config.json "checkpoint_layout"): the image model's keys start with
// "detector."; that prefix is stripped. "detector.backbone.vision_backbone.sam2_convs.*" (video neck), "tracker.*"
// and everything else are left out and listed in `skipped`, as are keys whose value is not a tensor. A torch
// checkpoint with no "detector." key at all is taken as already stripped (only the two skip prefixes apply).
// Our own safetensors files hold already-stripped keys and are passed through unchanged.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace sam3 {

class MappedFile;  // io/mmap_file.h

struct WeightFile {
  std::map<std::string, Tensor> tensors;          // image-model keys, "detector." stripped
  std::vector<std::string> skipped;               // keys left out (tracker.*, sam2_convs.*, ...)
  // The interactive ("SAM 1 task") weights among the skipped keys, when the file has them: the SAM2 neck as
  // "backbone.vision_backbone.sam2_convs.*" ("detector." stripped) and "tracker.sam_prompt_encoder.*",
  // "tracker.sam_mask_decoder.*", "tracker.no_mem_embed" (full keys). Empty for an image-model-only file.
  std::map<std::string, Tensor> interactive;
  std::map<std::string, std::string> metadata;    // safetensors __metadata__ (empty for .pt)
  std::string format;                             // "torch" or "safetensors"
  std::shared_ptr<const void> keepalive;          // the mapping
  std::shared_ptr<const MappedFile> mapping;      // the same mapping (null for data not read from a file)

  // Gives back the resident pages of a tensor borrowed from this file once it has been converted and will not be
  // read again (MappedFile::release: a later read would fetch the same bytes from the file). A tensor that is not
  // borrowed from the mapping (owned, or another file's) is left alone.
  void release(const Tensor& t) const;
};

// Reads a torch checkpoint (zip + pickle) and applies the layout rule above. Contiguous tensors are borrowed
// zero-copy from the mapped file (read-only memory). Throws sam3::Error naming the file and the problem.
WeightFile load_torch_checkpoint(const std::string& path);
// Dispatches on the first bytes: "PK" (zip) -> load_torch_checkpoint, else safetensors.
WeightFile load_weight_file(const std::string& path);

// The interactive-weights rule for one full checkpoint key (see WeightFile::interactive): true and the key it is
// stored under, or false.
bool interactive_key(const std::string& key, std::string* stored);

// The layout rule for one full checkpoint key: true (and the stripped key) if it belongs to the image model.
bool image_model_key(const std::string& key, std::string* stripped);

}  // namespace sam3
