// sam3.cpp — the model summary for /health.
#include "model_info.h"

#include <cctype>
#include <set>

#include "api/internal.h"  // the weights' dtypes (library internal; the public API has no accessor)
#include "core/dtype.h"

namespace sam3::server {

ModelInfo model_info(const Model& model, const std::string& path) {
  ModelInfo info;
  info.path = path;
  info.config = model.config_name();
  info.input_size = model.input_size();
  const Config& cfg = model.impl().config;
  const std::vector<int> sizes = cfg.fpn_sizes_all();
  for (int i = 0; i < cfg.fpn_levels_used(); ++i) {
    const int64_t s = sizes.at(static_cast<size_t>(i));
    info.embedding_bytes += static_cast<int64_t>(cfg.d_model) * s * s * static_cast<int64_t>(sizeof(float));
  }
  std::set<std::string> dtypes;
  for (const auto& [name, t] : model.impl().weights.tensors) {
    if (t.dtype() == DType::C64) continue;  // the RoPE tables: computed buffers, not weights
    std::string d = dtype_name(t.dtype());  // "F32" -> "f32"
    for (char& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    dtypes.insert(d);
  }
  for (const std::string& d : dtypes) info.dtype += (info.dtype.empty() ? "" : ", ") + d;
  return info;
}

}  // namespace sam3::server
