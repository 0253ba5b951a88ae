// sam3.cpp — the metadata of a weights file written by `sam3 convert` (docs/weights.md, "Converted files"): a
// safetensors file whose "__metadata__" says it is one, in which precision its matmul weights are stored, the config
// they belong to and where they came from. The tensors' layout rules (which weights are reduced, the ".scale"
// tensors of int8 weights) are in api/convert.h; this header only reads and writes the metadata.
#pragma once
#include <map>
#include <string>

namespace sam3 {

struct ConvertedFormat {
  int version = 1;            // "format_version": the layout below; a reader refuses versions it does not know
  std::string dtype;          // "dtype": the storage precision, "bf16", "int8" or "f16"
  std::string config_json;    // "config": the config's bare JSON object (config_to_json)
  std::string source;         // "source": the file it was converted from, as given to sam3 convert
  std::string quantization;   // "quantization": the rounding / quantization scheme, in words
};

constexpr const char* kConvertedFormatName = "sam3.converted_weights";  // metadata "format"
constexpr int kConvertedFormatVersion = 1;

// The key of an I8 weight's per-output-channel scale (F32 [out]): "<weight key>.scale".
inline std::string scale_key(const std::string& weight_key) { return weight_key + ".scale"; }

// The scheme of each storage dtype, in words (the "quantization" entry).
std::string converted_quantization(const std::string& dtype);

// The metadata of a converted file.
std::map<std::string, std::string> converted_metadata(const ConvertedFormat& f);

// False if `metadata` is not a converted file's (no "format" = kConvertedFormatName). True and *out filled if it is;
// throws sam3::Error naming `path` and the entry if the entries are missing, malformed or of an unknown version or
// dtype.
bool read_converted_format(const std::map<std::string, std::string>& metadata, const std::string& path,
                           ConvertedFormat* out);

}  // namespace sam3
