// sam3.cpp — the expected weights of the SAM 3 image model: every state-dict key with its shape and dtype, derived
// from the config alone, and strict validation of a loaded weight file against it.
// Keys are the image model's state_dict() names, i.e. the checkpoint's keys with "detector." stripped, in the order
// the official checkpoint stores them. They are not listed here: the module constructors are built over a collecting
// nn::ParamScope, which records every tensor they ask for (nn/params.h). docs/weights.md has the key table.
// ref: sam3/model/sam3_image.py (Sam3Image: the modules, in state-dict order)
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/config.h"
#include "nn/params.h"

namespace sam3 {

struct WeightFile;  // io/weight_file.h

using nn::TensorSpec;  // name: the state-dict key without "detector."

// Every tensor of the image model, in checkpoint order (for the full preset: 1,134 entries): the tensors its module
// constructors ask a collecting ParamScope for. Throws sam3::Error if the config is invalid (validate_config) or
// describes a model the modules do not implement.
std::vector<TensorSpec> expected_tensors(const Config& config);

// True for the ViT's RoPE tables "backbone.vision_backbone.trunk.blocks.<i>.attn.freqs_cis": buffers, not parameters.
bool is_rope_buffer(const std::string& name);
// Number of model parameters: elements of every spec except the RoPE buffers (full: 840,509,750; tiny: 4,497,742).
int64_t count_parameters(const std::vector<TensorSpec>& specs);

// The content of block `block`'s freqs_cis buffer: (tokens, head_dim/2) complex64 stored as interleaved (re, im)
// float pairs, tokens = window_size^2 (windowed block) or grid^2 (global block, positions scaled by
// vit_rope_scale_global()). Computed in float32 as upstream does (bit-identical to the fixture's tables with glibc).
// ref: sam3/model/vitdet.py (compute_axial_cis, init_t_xy, Attention._setup_rope_freqs)
Tensor vit_rope_table(const Config& config, int block);

// Every problem of `tensors` against the config's expected tensors: missing keys, wrong shapes, wrong dtypes,
// unexpected extra keys; each message names the key. Empty if the weights fit exactly.
std::vector<std::string> weight_problems(const Config& config, const std::map<std::string, Tensor>& tensors);
// Throws one sam3::Error listing every problem (weight_problems), naming `source` and the config; returns quietly
// if there is none.
void validate_weights(const Config& config, const std::map<std::string, Tensor>& tensors,
                      const std::string& source = "weights");
void validate_weights(const Config& config, const WeightFile& file);

}  // namespace sam3
