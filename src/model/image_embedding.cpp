#include "model/image_embedding.h"

#include "core/error.h"
#include "io/image_decode.h"
#include "io/safetensors.h"
#include "model/neck.h"

namespace sam3 {

namespace {

constexpr const char* kFormat = "sam3.image_embedding";
constexpr const char* kVersion = "1";

std::vector<int64_t> level_sizes(const Config& cfg) {
  const int64_t G = cfg.vit.img_size / cfg.vit.patch_size;
  const size_t n = cfg.neck.scale_factors.size();
  if (cfg.neck.scalp < 0 || static_cast<size_t>(cfg.neck.scalp) >= n) throw Error("neck.scalp leaves no level");
  std::vector<int64_t> sizes;
  for (size_t i = 0; i + static_cast<size_t>(cfg.neck.scalp) < n; ++i)
    sizes.push_back(neck_level_size(cfg.neck.scale_factors[i], G));
  return sizes;
}

std::string fpn_key(size_t i) { return "backbone_fpn." + std::to_string(i); }
std::string pos_key(size_t i) { return "vision_pos_enc." + std::to_string(i); }

int64_t parse_int(const TensorFile& f, const std::string& key) {
  auto it = f.metadata.find(key);
  if (it == f.metadata.end()) throw Error(f.source + ": image embedding metadata lacks '" + key + "'");
  try {
    size_t used = 0;
    const long long v = std::stoll(it->second, &used);
    if (used != it->second.size()) throw std::invalid_argument("trailing characters");
    return v;
  } catch (const std::exception&) {
    throw Error(f.source + ": image embedding metadata '" + key + "' is not an integer: '" + it->second + "'");
  }
}

}  // namespace

std::vector<Shape> image_feature_shapes(const Config& cfg) {
  std::vector<Shape> s;
  for (int64_t n : level_sizes(cfg)) s.push_back({1, cfg.d_model, n, n});
  return s;
}

std::vector<Shape> image_pos_shapes(const Config& cfg) {
  std::vector<Shape> s;
  for (int64_t n : level_sizes(cfg)) s.push_back({1, cfg.pos_enc.num_pos_feats, n, n});
  return s;
}

void save_image_features(const std::string& path, const ImageFeatures& f) {
  if (f.fpn.size() != f.pos.size()) throw Error("save_image_features: fpn and pos level counts differ");
  std::map<std::string, Tensor> tensors;
  for (size_t i = 0; i < f.fpn.size(); ++i) {
    tensors[fpn_key(i)] = f.fpn[i];
    tensors[pos_key(i)] = f.pos[i];
  }
  if (f.pvs) {
    tensors["pvs.feat_s0"] = f.pvs->feat_s0;
    tensors["pvs.feat_s1"] = f.pvs->feat_s1;
    tensors["pvs.image_embed"] = f.pvs->image_embed;
  }
  std::map<std::string, std::string> meta = {
      {"format", kFormat},
      {"version", kVersion},
      {"config", f.config_name},
      {"image_height", std::to_string(f.image_height)},
      {"image_width", std::to_string(f.image_width)},
      {"levels", std::to_string(f.fpn.size())},
  };
  write_safetensors(path, tensors, meta);
}

ImageFeatures load_image_features(const std::string& path, const Config& cfg) {
  TensorFile file = read_safetensors(path);
  auto meta = [&](const std::string& k) -> std::string {
    auto it = file.metadata.find(k);
    return it == file.metadata.end() ? std::string() : it->second;
  };
  if (meta("format") != kFormat)
    throw Error(path + ": not an image embedding (metadata format is '" + meta("format") + "', expected '" + kFormat + "')");
  if (meta("version") != kVersion)
    throw Error(path + ": image embedding version '" + meta("version") + "' is not supported (expected " + kVersion + ")");
  ImageFeatures f;
  f.config_name = meta("config");
  if (f.config_name != cfg.name)
    throw Error(path + ": image embedding was made with config '" + f.config_name + "', the model's config is '" +
                cfg.name + "'");
  f.image_height = parse_int(file, "image_height");
  f.image_width = parse_int(file, "image_width");
  // The same bound as for decoded images (io/image_decode.h): its masks are made at this size, and it becomes an int.
  const int64_t max_pixels = DecodeOptions{}.max_pixels;
  if (f.image_height <= 0 || f.image_width <= 0 || f.image_height > max_pixels || f.image_width > max_pixels ||
      f.image_height * f.image_width > max_pixels)
    throw Error(path + ": image embedding has no valid image size (" + std::to_string(f.image_width) + "x" +
                std::to_string(f.image_height) + "; at most " + std::to_string(max_pixels) + " pixels)");
  const std::vector<Shape> fs = image_feature_shapes(cfg), ps = image_pos_shapes(cfg);
  if (parse_int(file, "levels") != static_cast<int64_t>(fs.size()))
    throw Error(path + ": image embedding has " + meta("levels") + " levels, the config gives " + std::to_string(fs.size()));
  for (size_t i = 0; i < fs.size(); ++i) {
    const Tensor& a = file.get(fpn_key(i));
    check_tensor(a, fs[i], DType::F32, path + ": '" + fpn_key(i) + "'");
    const Tensor& b = file.get(pos_key(i));
    check_tensor(b, ps[i], DType::F32, path + ": '" + pos_key(i) + "'");
    f.fpn.push_back(a);
    f.pos.push_back(b);
  }
  size_t n_pvs = 0;
  if (file.tensors.count("pvs.image_embed")) {
    const PvsConfig p = cfg.pvs();
    const int64_t C = p.prompt_embed_dim, E = p.image_embedding_size;
    auto pvs = std::make_shared<PvsFeatures>();
    pvs->feat_s0 = file.get("pvs.feat_s0");
    check_tensor(pvs->feat_s0, {C / 8, 4 * E, 4 * E}, DType::F32, path + ": 'pvs.feat_s0'");
    pvs->feat_s1 = file.get("pvs.feat_s1");
    check_tensor(pvs->feat_s1, {C / 4, 2 * E, 2 * E}, DType::F32, path + ": 'pvs.feat_s1'");
    pvs->image_embed = file.get("pvs.image_embed");
    check_tensor(pvs->image_embed, {1, C, E, E}, DType::F32, path + ": 'pvs.image_embed'");
    f.pvs = std::move(pvs);
    n_pvs = 3;
  }
  if (file.tensors.size() != 2 * fs.size() + n_pvs) throw Error(path + ": image embedding holds unexpected extra tensors");
  return f;
}

}  // namespace sam3
