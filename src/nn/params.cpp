#include "nn/params.h"

#include "core/error.h"

namespace sam3::nn {

ParamScope::ParamScope(const TensorMap& tensors, std::string source, std::string prefix)
    : tensors_(&tensors), source_(std::move(source)), prefix_(std::move(prefix)) {}

ParamScope ParamScope::sub(const std::string& name) const { return ParamScope(*tensors_, source_, prefix_ + name + "."); }

ParamScope ParamScope::sub(int index) const { return sub(std::to_string(index)); }

bool ParamScope::has(const std::string& name) const { return tensors_->count(prefix_ + name) != 0; }

const Tensor& ParamScope::get_any(const std::string& name) const {
  auto it = tensors_->find(prefix_ + name);
  if (it == tensors_->end()) throw Error("missing tensor '" + prefix_ + name + "' in " + source_);
  return it->second;
}

const Tensor& ParamScope::get(const std::string& name, const Shape& shape, DType dtype) const {
  const Tensor& t = get_any(name);
  check_tensor(t, shape, dtype, "tensor '" + prefix_ + name + "' in " + source_);
  return t;
}

}  // namespace sam3::nn
