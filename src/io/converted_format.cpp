// sam3.cpp — converted weights' metadata (see io/converted_format.h).
#include "io/converted_format.h"

#include "core/error.h"

namespace sam3 {

std::string converted_quantization(const std::string& dtype) {
  if (dtype == "bf16") return "bf16: the weights of the layers run in bf16 rounded to nearest, ties to even";
  if (dtype == "int8")
    return "int8: symmetric per output channel, scale = max|w| / 127 (1 for an all-zero row), q = rint(w / scale) in "
           "[-127, 127]; the scale of weight K is the F32 tensor K.scale [out]";
  if (dtype == "f16") return "f16: every floating-point tensor IEEE binary16, rounded to nearest, ties to even";
  throw Error("unknown storage dtype '" + dtype + "' (expected bf16, int8 or f16)");
}

std::map<std::string, std::string> converted_metadata(const ConvertedFormat& f) {
  return {{"format", kConvertedFormatName},
          {"format_version", std::to_string(f.version)},
          {"dtype", f.dtype},
          {"config", f.config_json},
          {"source", f.source},
          {"quantization", f.quantization.empty() ? converted_quantization(f.dtype) : f.quantization}};
}

bool read_converted_format(const std::map<std::string, std::string>& metadata, const std::string& path,
                           ConvertedFormat* out) {
  auto it = metadata.find("format");
  if (it == metadata.end() || it->second != kConvertedFormatName) return false;
  auto need = [&](const char* key) -> const std::string& {
    auto e = metadata.find(key);
    if (e == metadata.end())
      throw Error(path + ": a converted weights file without the metadata entry '" + std::string(key) + "'");
    return e->second;
  };
  ConvertedFormat f;
  const std::string& version = need("format_version");
  if (version != std::to_string(kConvertedFormatVersion))
    throw Error(path + ": converted weights of format version '" + version + "', this build reads version " +
                std::to_string(kConvertedFormatVersion) + " (convert the checkpoint again with this sam3)");
  f.version = kConvertedFormatVersion;
  f.dtype = need("dtype");
  if (f.dtype != "bf16" && f.dtype != "int8" && f.dtype != "f16")
    throw Error(path + ": converted weights of unknown dtype '" + f.dtype + "' (expected bf16, int8 or f16)");
  f.config_json = need("config");
  auto s = metadata.find("source");
  if (s != metadata.end()) f.source = s->second;
  auto q = metadata.find("quantization");
  if (q != metadata.end()) f.quantization = q->second;
  *out = std::move(f);
  return true;
}

}  // namespace sam3
