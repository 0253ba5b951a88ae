// sam3.cpp — what /health says about the loaded model (read once at start).
#pragma once
#include <cstdint>
#include <string>

#include "sam3/sam3.h"

namespace sam3::server {

struct ModelInfo {
  std::string path;
  std::string config;  // config name ("sam3", "tiny", ...)
  std::string dtype;   // weight dtypes, e.g. "f32" or "bf16, f32"
  int input_size = 0;
  int64_t embedding_bytes = 0;  // one image's embedding (the used FPN levels, f32); the same for every image
};

ModelInfo model_info(const Model& model, const std::string& path);

}  // namespace sam3::server
