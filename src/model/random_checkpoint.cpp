// sam3.cpp — random checkpoints in the official layout, streamed to disk in chunks generated on several threads.
#include "model/random_checkpoint.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "io/torch_writer.h"
#include "model/sam1_task_predictor.h"

namespace sam3 {

namespace {

constexpr char kImagePrefix[] = "detector.";
constexpr char kNeckPrefix[] = "backbone.vision_backbone.convs.";
constexpr char kSam2NeckPrefix[] = "backbone.vision_backbone.sam2_convs.";
constexpr char kBlocksPrefix[] = "backbone.vision_backbone.trunk.blocks.";

uint64_t mix64(uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

inline uint32_t fmix32(uint32_t h) {  // murmur3 finaliser (a bijection; vectorises with 32-bit multiplies)
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : s) h = (h ^ ch) * 0x100000001b3ull;
  return h;
}

// Element i of a tensor: mean + std * N(0,1), the draw hashed from (seed, key, i). The normal is Irwin-Hall: the
// sum of four 16-bit uniforms (two 32-bit hashes of 2i and 2i+1; i < 2^31 keeps them distinct), centred and scaled
// to unit variance. Mean 0, variance 1 (up to 1/65536^2), support +-2*sqrt(3) = +-3.46.
struct Sampler {
  uint32_t base = 0;
  float mean = 0, std = 1;
  int64_t qk_end = 0;  // elements [0, qk_end) (the q and k rows of a fused projection) have std * qk_gain
  float qk_gain = 1;

  // out[j] = value of element first + j, for j in [0, n).
  void fill(float* out, int64_t first, int64_t n) const {
    const int64_t split = std::clamp<int64_t>(qk_end - first, 0, n);
    run(out, first, split, std * qk_gain);
    run(out + split, first + split, n - split, std);
  }

 private:
  void run(float* out, int64_t first, int64_t n, float sd) const {
    const float scale = sd * (1.7320508075688772f / 65536.0f);
    for (int64_t j = 0; j < n; ++j) {
      const uint32_t i2 = static_cast<uint32_t>(2 * (first + j));
      const uint32_t a = fmix32(base + i2 * 0x9e3779b9u), b = fmix32(base + (i2 + 1) * 0x9e3779b9u);
      const uint32_t s = (a & 0xFFFF) + (a >> 16) + (b & 0xFFFF) + (b >> 16);
      out[j] = mean + (static_cast<float>(s) - 131070.0f) * scale;
    }
  }
};

// golden/tiny/config.json "init".
constexpr float kBiasStd = 0.1f, kNormStd = 0.1f, kEmbeddingStd = 1.0f, kPosEmbedStd = 0.5f, kQKGain = 1.5f;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The names of the nn.Embedding modules of the image model (their weight is N(0, 1)).
bool is_embedding(const std::string& module) {
  for (const char* e :
       {"label_embed", "cls_embed", "query_embed", "reference_points", "presence_token", "token_embedding"})
    if (module == e) return true;
  return false;
}

// LayerNorm (norm, norm1, ln_1, catext_norm, ...) and the pixel decoder's GroupNorms (pixel_decoder.norms.<i>).
bool is_norm(const std::string& path, const std::string& module) {
  return module.find("norm") != std::string::npos || module.rfind("ln_", 0) == 0 || ends_with(path, ".norms." + module);
}

Sampler make_sampler(const TensorSpec& spec, uint64_t seed) {
  const int64_t numel = shape_numel(spec.shape);
  if (numel >= (int64_t{1} << 31)) throw Error("random checkpoint: tensor '" + spec.name + "' is too large");
  Sampler s;
  s.base = static_cast<uint32_t>(mix64(seed ^ mix64(fnv1a(spec.name))));
  const int64_t rows = spec.shape.empty() ? 1 : spec.shape[0];
  const int64_t fan_in = rows > 0 && numel > 0 ? numel / rows : 1;  // elements per row
  const InitRule rule = init_rule(spec);
  switch (rule.init) {
    case Init::FanIn: s.std = rule.gain / std::sqrt(static_cast<float>(fan_in)); break;
    case Init::FanInQK:
      s.std = rule.gain / std::sqrt(static_cast<float>(fan_in));
      s.qk_end = rows / 3 * 2 * fan_in;
      s.qk_gain = kQKGain;
      break;
    case Init::FanInDim0: s.std = rule.gain / std::sqrt(static_cast<float>(std::max<int64_t>(rows, 1))); break;
    case Init::Bias: s.std = kBiasStd; break;
    case Init::NormWeight: s.mean = 1.0f; s.std = kNormStd; break;
    case Init::NormBias: s.std = kNormStd; break;
    case Init::Embedding: s.std = kEmbeddingStd; break;
    case Init::PosEmbed: s.std = kPosEmbedStd; break;
    case Init::Rope: throw Error("random checkpoint: '" + spec.name + "' is a deterministic RoPE table, not random");
  }
  return s;
}

// The tensors to write after the image model: keys the loader must skip (sam2_convs.*, tracker.*), with full keys.
std::vector<std::pair<std::string, TensorSpec>> extra_specs(const Config& c, const std::vector<TensorSpec>& model) {
  std::vector<std::pair<std::string, TensorSpec>> out;
  for (const TensorSpec& s : model) {
    if (s.name.rfind(kNeckPrefix, 0) != 0) continue;
    TensorSpec copy = s;
    copy.name = kSam2NeckPrefix + s.name.substr(sizeof(kNeckPrefix) - 1);
    out.emplace_back(kImagePrefix + copy.name, copy);
  }
  const int64_t d = c.d_model;
  for (TensorSpec t : {TensorSpec{"tracker.maskmem_tpos_enc", {7, 1, 1, d}},
                       TensorSpec{"tracker.no_mem_embed", {1, 1, d}}, TensorSpec{"tracker.no_obj_ptr", {1, d}}})
    out.emplace_back(t.name, t);
  return out;
}

// The interactive head's tensors (prompt encoder, mask decoder), full keys, in checkpoint order.
std::vector<std::pair<std::string, TensorSpec>> interactive_specs(const Config& c) {
  std::vector<std::pair<std::string, TensorSpec>> out;
  for (const TensorSpec& s : expected_interactive_tensors(c))
    if (s.name.rfind("tracker.sam_", 0) == 0) out.emplace_back(s.name, s);
  return out;
}

// ref: golden/tiny_pvs/init_rules_pvs.json (the interactive head's modules)
InitRule sam_head_rule(const std::string& name) {
  const size_t dot = name.rfind('.');
  const std::string path = name.substr(0, dot), param = name.substr(dot + 1);
  const std::string module = path.substr(path.rfind('.') + 1);
  if (param == "positional_encoding_gaussian_matrix") return {Init::Embedding};  // torch.randn buffer
  const bool layer_norm_2d = ends_with(path, "mask_downscaling.1") || ends_with(path, "mask_downscaling.4") ||
                             ends_with(path, "output_upscaling.1");
  if (layer_norm_2d || is_norm(path, module)) return {param == "weight" ? Init::NormWeight : Init::NormBias};
  if (param != "weight") return {Init::Bias};
  if (path.find(".point_embeddings.") != std::string::npos) return {Init::Embedding};
  for (const char* e : {"not_a_point_embed", "no_mask_embed", "iou_token", "mask_tokens", "obj_score_token"})
    if (module == e) return {Init::Embedding};
  if (ends_with(path, "output_upscaling.0") || ends_with(path, "output_upscaling.3")) return {Init::FanInDim0};
  return {Init::FanIn};
}

}  // namespace

InitRule init_rule(const TensorSpec& spec) {
  // golden init: attention_out_proj_gain, bbox_embed_last_layer_gain
  constexpr float kOutProjGain = 0.3f, kBoxDeltaGain = 0.25f;
  const std::string& name = spec.name;
  if (is_rope_buffer(name)) return {Init::Rope};
  if (name.rfind("tracker.sam_", 0) == 0) return sam_head_rule(name);
  if (name.rfind("tracker.", 0) == 0) return {Init::Embedding};
  if (ends_with(name, "pos_embed") || ends_with(name, "positional_embedding")) return {Init::PosEmbed};
  if (ends_with(name, "text_projection")) return {Init::FanInDim0};
  if (ends_with(name, "in_proj_weight") || ends_with(name, ".attn.qkv.weight")) return {Init::FanInQK};
  if (ends_with(name, "in_proj_bias")) return {Init::Bias};
  const size_t dot = name.rfind('.');
  const std::string path = name.substr(0, dot), param = name.substr(dot + 1);  // module path, "weight" / "bias"
  const std::string module = path.substr(path.rfind('.') + 1);
  const bool weight = param == "weight";
  if (is_norm(path, module)) return {weight ? Init::NormWeight : Init::NormBias};
  if (!weight) return {Init::Bias};
  if (is_embedding(module)) return {Init::Embedding};
  if (module.rfind("dconv_", 0) == 0) return {Init::FanInDim0};  // ConvTranspose2d (in, out, kh, kw)
  if (module == "out_proj" || ends_with(path, ".attn.proj")) return {Init::FanIn, kOutProjGain};
  if (name == "transformer.decoder.bbox_embed.layers.2.weight") return {Init::FanIn, kBoxDeltaGain};
  return {Init::FanIn};
}

float random_init_value(const TensorSpec& spec, uint64_t seed, int64_t index) {
  float v = 0;
  make_sampler(spec, seed).fill(&v, index, 1);
  return v;
}

RandomCheckpointStats write_random_checkpoint(const std::string& path, const Config& config,
                                              const RandomCheckpointOptions& options) {
  const std::vector<TensorSpec> specs = expected_tensors(config);  // validates the config
  std::vector<std::pair<std::string, TensorSpec>> all;
  all.reserve(specs.size() + 32);
  for (const TensorSpec& s : specs) all.emplace_back(kImagePrefix + s.name, s);
  if (options.extra_keys || options.interactive) {
    auto extra = extra_specs(config, specs);
    all.insert(all.end(), extra.begin(), extra.end());
  }
  if (options.interactive) {
    auto head = interactive_specs(config);
    all.insert(all.end(), head.begin(), head.end());
  }

  RandomCheckpointStats stats;
  stats.parameters = count_parameters(specs);
  TorchCheckpointWriter writer(path);
  constexpr int64_t kPageElems = int64_t{1} << 24;  // 64 MiB of generated values at a time
  std::vector<float> page;
  for (const auto& [key, spec] : all) {
    const bool rope = init_rule(spec).init == Init::Rope;
    if (spec.dtype != (rope ? DType::C64 : DType::F32))
      throw Error("random checkpoint: unexpected dtype " + std::string(dtype_name(spec.dtype)) + " for '" + key + "'");
    if (rope) {
      // ref: sam3/model/vitdet.py (Attention._setup_rope_freqs): a deterministic buffer, stored as complex64.
      const int block = std::stoi(spec.name.substr(sizeof(kBlocksPrefix) - 1));  // "<i>.attn.freqs_cis"
      const Tensor table = vit_rope_table(config, block);
      if (table.shape() != spec.shape) throw Error("random checkpoint: RoPE table shape mismatch for '" + key + "'");
      writer.add(key, table);
    } else {
      const Sampler sampler = make_sampler(spec, options.seed);
      const int64_t numel = shape_numel(spec.shape);
      int64_t page_first = 0, page_len = 0;  // elements of the tensor now in `page`
      writer.add(key, DType::F32, spec.shape, [&](uint8_t* dst, uint64_t byte_offset, size_t n) {
        // The writer asks for small chunks (whole floats); values are generated a page at a time on all threads,
        // so there are few parallel regions (each region's end costs idle spinning on a busy machine).
        int64_t first = static_cast<int64_t>(byte_offset / sizeof(float));
        int64_t count = static_cast<int64_t>(n / sizeof(float));
        uint8_t* out = dst;
        while (count > 0) {
          if (first < page_first || first >= page_first + page_len) {
            page_first = first;
            page_len = std::min<int64_t>(kPageElems, numel - first);
            page.resize(static_cast<size_t>(page_len));
            constexpr int64_t kBlock = int64_t{1} << 20;  // ~1 ms of work: smaller tensors are generated serially
            parallel_for(options.n_threads, (page_len + kBlock - 1) / kBlock, [&](int64_t b) {
              const int64_t lo = b * kBlock, hi = std::min(page_len, lo + kBlock);
              sampler.fill(page.data() + lo, page_first + lo, hi - lo);
            });
          }
          const int64_t m = std::min(count, page_first + page_len - first);
          std::memcpy(out, page.data() + (first - page_first), static_cast<size_t>(m) * sizeof(float));
          out += m * static_cast<int64_t>(sizeof(float));
          first += m;
          count -= m;
        }
      });
    }
    stats.tensors += 1;
    stats.bytes += static_cast<uint64_t>(shape_numel(spec.shape)) * dtype_size(spec.dtype);
  }
  writer.finish();
  return stats;
}

}  // namespace sam3
