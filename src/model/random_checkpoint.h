// sam3.cpp — random checkpoints in the official sam3.pt layout, for any config (the full-size one included): for
// benchmarks and for testing the loader and the model at full size without the real weights.
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "model/config.h"
#include "model/weights_schema.h"

namespace sam3 {

// How a random checkpoint initialises a tensor (golden/tiny/config.json "init", init_rules.json).
enum class Init : uint8_t {
  FanIn,       // N(0, gain/sqrt(fan_in)), fan_in = numel / shape[0]: Linear (out, in), Conv2d (out, in, kh, kw)
  FanInQK,     // FanIn, and the first 2/3 of the rows (q and k of a fused qkv / in_proj) scaled by 1.5
  FanInDim0,   // N(0, gain/sqrt(shape[0])): ConvTranspose2d (in, out, kh, kw), text_projection (width, out)
  Bias,        // N(0, 0.1)
  NormWeight,  // 1 + N(0, 0.1) (LayerNorm, GroupNorm)
  NormBias,    // N(0, 0.1)
  Embedding,   // N(0, 1): nn.Embedding weights, the tracker.* extra keys
  PosEmbed,    // N(0, 0.5): ViT pos_embed, text positional_embedding
  Rope,        // deterministic complex64 RoPE table (vit_rope_table)
};

struct InitRule {
  Init init = Init::FanIn;
  float gain = 1.0f;  // multiplies the std of FanIn* inits (0.3 for attention out_proj, 0.25 for bbox_embed's last)
};

// The rule for a tensor of the image model or an extra key, from its key (without "detector."): in_proj_weight and
// attn.qkv.weight FanInQK; out_proj.weight and attn.proj.weight FanIn x0.3; the decoder's bbox_embed.layers.2.weight
// FanIn x0.25; dconv_* weights and text_projection FanInDim0; norms; embeddings; pos_embed / positional_embedding;
// RoPE buffers; tracker.* Embedding; any other weight FanIn and any other bias Bias.
InitRule init_rule(const TensorSpec& spec);

struct RandomCheckpointOptions {
  uint64_t seed = 1234;
  int n_threads = 1;
  // Also write keys the image model must skip, as the released checkpoint has them: a copy of the neck under
  // "detector.backbone.vision_backbone.sam2_convs." and a few "tracker.*" tensors.
  bool extra_keys = true;
  // Also write the interactive head ("tracker.sam_prompt_encoder.*", "tracker.sam_mask_decoder.*"; implies
  // extra_keys for the SAM2 neck and tracker.no_mem_embed), so the checkpoint supports pick(). Init rules as
  // golden/tiny_pvs/init_rules_pvs.json: Linear / Conv2d FanIn (no out_proj gain), ConvTranspose2d FanInDim0,
  // LayerNorm / LayerNorm2d norms, embeddings, tokens and the Fourier matrix N(0, 1). `sam3 make-random-checkpoint`
  // sets it by default.
  bool interactive = false;
};

struct RandomCheckpointStats {
  int64_t tensors = 0;     // entries written, extra keys included
  int64_t parameters = 0;  // image-model parameters (no RoPE buffers, no extra keys)
  uint64_t bytes = 0;      // tensor data bytes written
};

// Writes {"model": OrderedDict} with the image model's keys prefixed "detector." in checkpoint order (weights_schema),
// then the extra keys. Values follow golden/tiny/config.json "init" (init_rule); the normal draws are
// approximate (Irwin-Hall sum of four uniforms, exact mean and variance, tails cut at 3.46 sigma). Element i of a
// tensor depends only on (seed, key, i), so the file is the same for any thread count. RoPE tables are the exact
// deterministic buffers (vit_rope_table). Throws sam3::Error on invalid config or I/O failure.
RandomCheckpointStats write_random_checkpoint(const std::string& path, const Config& config,
                                              const RandomCheckpointOptions& options);

// The value the generator gives element `index` of a tensor with this spec (for tests; RoPE specs excluded).
float random_init_value(const TensorSpec& spec, uint64_t seed, int64_t index);

}  // namespace sam3
