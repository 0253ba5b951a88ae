// sam3.cpp — random checkpoints in the official sam3.pt layout, for any config (the full-size one included): for
// benchmarks and for testing the loader and the model at full size without the real weights.
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "model/config.h"
#include "model/weights_schema.h"

namespace sam3 {

struct RandomCheckpointOptions {
  uint64_t seed = 1234;
  int n_threads = 1;
  // Also write keys the image model must skip, as the released checkpoint has them: a copy of the neck under
  // "detector.backbone.vision_backbone.sam2_convs." and a few "tracker.*" tensors.
  bool extra_keys = true;
};

struct RandomCheckpointStats {
  int64_t tensors = 0;     // entries written, extra keys included
  int64_t parameters = 0;  // image-model parameters (no RoPE buffers, no extra keys)
  uint64_t bytes = 0;      // tensor data bytes written
};

// Writes {"model": OrderedDict} with the image model's keys prefixed "detector." in checkpoint order (weights_schema),
// then the extra keys. Values follow golden/tiny/config.json "init" (TensorSpec::init); the normal draws are
// approximate (Irwin-Hall sum of four uniforms, exact mean and variance, tails cut at 3.46 sigma). Element i of a
// tensor depends only on (seed, key, i), so the file is the same for any thread count. RoPE tables are the exact
// deterministic buffers (vit_rope_table). Throws sam3::Error on invalid config or I/O failure.
RandomCheckpointStats write_random_checkpoint(const std::string& path, const Config& config,
                                              const RandomCheckpointOptions& options);

// The value the generator gives element `index` of a tensor with this spec (for tests; RoPE specs excluded).
float random_init_value(const TensorSpec& spec, uint64_t seed, int64_t index);

}  // namespace sam3
