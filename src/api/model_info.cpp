// sam3.cpp — Model::info(): the loaded model's summary for front ends (weights' dtypes, embedding size).
#include <cctype>
#include <set>

#include "api/internal.h"
#include "core/dtype.h"
#include "io/converted_format.h"

namespace sam3 {

Model::Info Model::info() const {
  Info info;
  info.path = impl_->path;
  info.config_name = config_name();
  info.input_size = input_size();
  info.pick = supports_pick();
  for (const Shape& s : image_feature_shapes(impl_->config))  // the FPN levels an embedding holds (f32)
    info.embedding_bytes += shape_numel(s) * static_cast<int64_t>(sizeof(float));
  std::set<std::string> dtypes;
  for (const auto& [name, t] : impl_->weights.tensors) {
    if (t.dtype() == DType::C64) continue;  // the RoPE tables: computed buffers, not weights
    std::string d = dtype_name(t.dtype());  // "F32" -> "f32"
    for (char& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    dtypes.insert(d);
  }
  info.weight_dtypes.assign(dtypes.begin(), dtypes.end());
  ConvertedFormat converted;
  if (read_converted_format(impl_->weights.metadata, impl_->path, &converted))
    info.weight_format = "converted " + converted.dtype + " (sam3 convert)";
  else
    info.weight_format = impl_->weights.format == "torch" ? "torch checkpoint" : impl_->weights.format;
  info.precision = precision_name(impl_->precision);
  info.isa = impl_->isa;
  info.precision_note = impl_->precision_note;
  return info;
}

}  // namespace sam3
