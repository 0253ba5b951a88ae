// sam3.cpp — expected weights of the image model, collected from its module constructors; strict validation.
#include "model/weights_schema.h"

#include <cmath>
#include <set>

#include "core/error.h"
#include "io/weight_file.h"
#include "model/sam3_image.h"

namespace sam3 {

namespace {

// The image model built over a collecting scope: every tensor its constructors look up, in the order they look them
// up, which is the checkpoint's (Sam3Image constructs its modules in that order).
std::vector<TensorSpec> collect_specs(const Config& config) {
  nn::WeightCollector collector;
  const Sam3Image model(config, nn::ParamScope(collector));
  return collector.specs();
}

std::string describe(const TensorSpec& s) { return shape_str(s.shape) + " " + dtype_name(s.dtype); }

}  // namespace

std::vector<TensorSpec> expected_tensors(const Config& config) {
  validate_config(config);
  return collect_specs(config);
}

bool is_rope_buffer(const std::string& name) {
  static constexpr char kPrefix[] = "backbone.vision_backbone.trunk.blocks.";
  static constexpr char kSuffix[] = ".attn.freqs_cis";
  const size_t np = sizeof(kPrefix) - 1, ns = sizeof(kSuffix) - 1;
  return name.size() > np + ns && name.compare(0, np, kPrefix) == 0 &&
         name.compare(name.size() - ns, ns, kSuffix) == 0;
}

int64_t count_parameters(const std::vector<TensorSpec>& specs) {
  int64_t n = 0;
  for (const TensorSpec& s : specs)
    if (!is_rope_buffer(s.name)) n += shape_numel(s.shape);
  return n;
}

Tensor vit_rope_table(const Config& config, int block) {
  // ref: sam3/model/vitdet.py (compute_axial_cis, init_t_xy)
  //   freqs = 1 / theta ** (arange(0, dim, 4)[:dim/4].float() / dim)         (float32)
  //   t = arange(n*n); t_x = (t % n) * scale; t_y = (t // n) * scale          (float32)
  //   freqs_cis = cat(polar(1, outer(t_x, freqs)), polar(1, outer(t_y, freqs)), -1)
  if (block < 0 || block >= config.vit.depth)
    throw Error("vit_rope_table: block " + std::to_string(block) + " outside [0, " +
                std::to_string(config.vit.depth) + ")");
  const int dim = config.vit_head_dim();
  const int nf = dim / 4;
  const bool global = config.vit_block_is_global(block);
  const int n = global ? config.vit_grid() : config.vit.window_size;
  const float scale = static_cast<float>(global ? config.vit_rope_scale_global() : 1.0);
  std::vector<float> freqs(nf);
  for (int k = 0; k < nf; ++k) {
    const float e = static_cast<float>(4 * k) / static_cast<float>(dim);
    const float p = static_cast<float>(std::pow(config.vit.rope_theta, static_cast<double>(e)));
    freqs[k] = 1.0f / p;
  }
  Tensor out = Tensor::empty({static_cast<int64_t>(n) * n, 2 * nf}, DType::C64);
  float* o = static_cast<float*>(out.raw());  // (tokens, 2*nf) complex = (tokens, 2*nf, 2) float
  for (int t = 0; t < n * n; ++t) {
    const float px = static_cast<float>(t % n) * scale;
    const float py = static_cast<float>(t / n) * scale;
    for (int j = 0; j < 2 * nf; ++j) {
      const float angle = (j < nf ? px : py) * freqs[j % nf];
      // float cos/sin (torch.polar on float32): with glibc this reproduces the official tables bit for bit.
      o[(static_cast<size_t>(t) * 2 * nf + j) * 2 + 0] = std::cos(angle);
      o[(static_cast<size_t>(t) * 2 * nf + j) * 2 + 1] = std::sin(angle);
    }
  }
  return out;
}

std::vector<std::string> weight_problems(const Config& config, const std::map<std::string, Tensor>& tensors) {
  const std::vector<TensorSpec> specs = expected_tensors(config);
  std::vector<std::string> missing, mismatched, extra;
  std::set<std::string> expected_names;
  for (const TensorSpec& s : specs) {
    expected_names.insert(s.name);
    auto it = tensors.find(s.name);
    if (it == tensors.end()) {
      missing.push_back("missing: " + s.name + " (expected " + describe(s) + ")");
      continue;
    }
    const Tensor& t = it->second;
    if (t.shape() != s.shape || t.dtype() != s.dtype)
      mismatched.push_back(std::string(t.shape() != s.shape ? "wrong shape" : "wrong dtype") + ": " + s.name + " is " +
                           shape_str(t.shape()) + " " + dtype_name(t.dtype()) + ", expected " + describe(s));
  }
  for (const auto& [name, t] : tensors)
    if (!expected_names.count(name))
      extra.push_back("unexpected: " + name + " (" + shape_str(t.shape()) + " " + dtype_name(t.dtype()) +
                      ", not part of the image model)");
  std::vector<std::string> all;
  for (auto* group : {&missing, &mismatched, &extra}) all.insert(all.end(), group->begin(), group->end());
  return all;
}

void validate_weights(const Config& config, const std::map<std::string, Tensor>& tensors, const std::string& source) {
  const std::vector<std::string> problems = weight_problems(config, tensors);
  if (problems.empty()) return;
  std::string msg = source + " does not match config '" + config.name + "' (" + std::to_string(problems.size()) +
                    " problem" + (problems.size() == 1 ? "" : "s") + "):";
  for (const std::string& p : problems) msg += "\n  " + p;
  throw Error(msg);
}

void validate_weights(const Config& config, const WeightFile& file) {
  validate_weights(config, file.tensors, file.format.empty() ? std::string("weights") : file.format + " weights");
}

}  // namespace sam3
