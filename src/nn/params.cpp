#include "nn/params.h"

#include <algorithm>
#include <cstdlib>

#include "core/error.h"

namespace sam3::nn {

const Tensor& WeightCollector::record(const std::string& key, const Shape& shape, DType dtype, Precision packed) {
  auto it = tensors_.find(key);
  if (it != tensors_.end()) {
    check_tensor(it->second, shape, dtype, "tensor '" + key + "' (asked for twice)");
    for (const TensorSpec& s : specs_)
      if (s.name == key && s.packed != packed)
        throw Error("tensor '" + key + "' is asked for twice, packed to " + precision_name(s.packed) + " and to " +
                    precision_name(packed) + ": a file can store it only one way");
    return it->second;
  }
  const size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  if (!zeros_ || bytes > zero_bytes_) {
    zero_bytes_ = std::max<size_t>(bytes, 64);
    zeros_ = std::shared_ptr<void>(std::calloc(zero_bytes_, 1), std::free);
    if (!zeros_) throw Error("out of memory collecting tensor '" + key + "'");
  }
  specs_.push_back(TensorSpec{key, shape, dtype, packed});
  return tensors_.emplace(key, Tensor::borrow(zeros_.get(), shape, dtype, zeros_)).first->second;
}

ParamScope::ParamScope(const TensorMap* tensors, WeightCollector* collector, std::string source, std::string prefix)
    : tensors_(tensors), collector_(collector), source_(std::move(source)), prefix_(std::move(prefix)) {}

ParamScope::ParamScope(const TensorMap& tensors, std::string source, std::string prefix, Release release)
    : ParamScope(&tensors, nullptr, std::move(source), std::move(prefix)) {
  if (release) release_ = std::make_shared<const Release>(std::move(release));
}

ParamScope::ParamScope(WeightCollector& collector, std::string prefix)
    : ParamScope(nullptr, &collector, "the weight schema", std::move(prefix)) {}

ParamScope ParamScope::sub(const std::string& name) const {
  ParamScope s(tensors_, collector_, source_, prefix_ + name + ".");
  s.precision_ = precision_;
  s.defer_packing_ = defer_packing_;
  s.release_ = release_;
  return s;
}

ParamScope ParamScope::with_precision(Precision precision) const {
  ParamScope s = *this;
  s.precision_ = precision;
  return s;
}

ParamScope ParamScope::defer_packing() const {
  ParamScope s = *this;
  s.defer_packing_ = true;
  return s;
}

ParamScope ParamScope::sub(int index) const { return sub(std::to_string(index)); }

bool ParamScope::has(const std::string& name) const {
  if (collecting())
    throw Error("ParamScope::has('" + prefix_ + name + "') while collecting " + source_ +
                ": the expected tensors must follow from the config, not from a file");
  return tensors_->count(prefix_ + name) != 0;
}

const Tensor& ParamScope::get_any(const std::string& name) const {
  if (collecting())
    throw Error("ParamScope::get_any('" + prefix_ + name + "') while collecting " + source_ +
                ": a tensor spec needs a shape (use get)");
  auto it = tensors_->find(prefix_ + name);
  if (it == tensors_->end()) throw Error("missing tensor '" + prefix_ + name + "' in " + source_);
  return it->second;
}

const Tensor& ParamScope::get(const std::string& name, const Shape& shape, DType dtype) const {
  if (collecting()) return collector_->record(prefix_ + name, shape, dtype);
  const Tensor& t = get_any(name);
  check_tensor(t, shape, dtype, "tensor '" + prefix_ + name + "' in " + source_);
  return t;
}

StoredWeight ParamScope::matmul_weight(const std::string& name, const Shape& shape) const {
  if (collecting()) return StoredWeight{collector_->record(prefix_ + name, shape, DType::F32, precision_), Tensor()};
  const Tensor& t = get_any(name);
  const std::string what = "tensor '" + prefix_ + name + "' in " + source_;
  const DType dt = t.dtype();
  const bool ok = dt == DType::F32 || (dt == DType::BF16 && precision_ == Precision::BF16) ||
                  (dt == DType::I8 && precision_ == Precision::Int8) ||
                  (dt == DType::F16 && precision_ != Precision::F32);
  if (!ok)
    throw Error(what + " is stored as " + dtype_name(dt) + ", which cannot run " + precision_name(precision_) +
                " (docs/weights.md: a converted file runs the precision it was converted to)");
  check_tensor(t, shape, dt, what);
  StoredWeight w{t, Tensor()};
  if (dt == DType::I8) w.scale = get(name + ".scale", {shape.at(0)}, DType::F32);
  return w;
}

void ParamScope::release(const Tensor& t) const {
  if (release_ && !collecting()) (*release_)(t);
}

void ParamScope::unused(const std::string& name, const Shape& shape, DType dtype) const {
  if (collecting()) collector_->record(prefix_ + name, shape, dtype);
}

}  // namespace sam3::nn
