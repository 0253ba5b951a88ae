// sam3.cpp — the expected weights of the SAM 3 image model: every state-dict key with its shape and dtype, derived
// from the config alone, and strict validation of a loaded weight file against it.
// Keys are the image model's state_dict() names, i.e. the checkpoint's keys with "detector." stripped, in the order
// the official checkpoint stores them. docs/weights.md has the key table.
// ref: sam3/model/vitdet.py, necks.py, text_encoder_ve.py, geometry_encoders.py, encoder.py, decoder.py,
//      model_misc.py, maskformer_segmentation.py (the modules' __init__)
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/config.h"

namespace sam3 {

struct WeightFile;  // io/weight_file.h

// How a random checkpoint initialises a tensor (golden/tiny/config.json "init", init_rules.json). Only the
// generator (make-random-checkpoint) reads this; it has no effect on loading.
enum class Init : uint8_t {
  FanIn,       // N(0, gain/sqrt(fan_in)), fan_in = numel / shape[0]: Linear (out, in), Conv2d (out, in, kh, kw)
  FanInQK,     // FanIn, and the first 2/3 of the rows (q and k of a fused qkv / in_proj) scaled by 1.5
  FanInDim0,   // N(0, gain/sqrt(shape[0])): ConvTranspose2d (in, out, kh, kw), text_projection (width, out)
  Bias,        // N(0, 0.1)
  NormWeight,  // 1 + N(0, 0.1) (LayerNorm, GroupNorm)
  NormBias,    // N(0, 0.1)
  Embedding,   // N(0, 1)
  PosEmbed,    // N(0, 0.5): ViT pos_embed, text positional_embedding
  Rope,        // deterministic complex64 RoPE table (vit_rope_table)
};

struct TensorSpec {
  std::string name;  // state-dict key without "detector."
  Shape shape;
  DType dtype = DType::F32;
  Init init = Init::FanIn;
  float gain = 1.0f;  // multiplies the std of FanIn* inits (0.3 for attention out_proj, 0.25 for bbox_embed's last)
};

// Every tensor of the image model, in checkpoint order (for the full preset: 1,134 entries). Throws sam3::Error if
// the config is invalid (validate_config).
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
