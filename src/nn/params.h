// sam3.cpp — a module's parameters: a view of the state dict under a key prefix.
//
// Blocks in src/nn and src/model are built from a ParamScope, so the C++ module tree is the state-dict tree:
//   ParamScope trunk = root.sub("backbone").sub("vision_backbone").sub("trunk");
//   nn::Linear qkv = nn::Linear::load(trunk.sub("blocks").sub(3).sub("attn").sub("qkv"), C, 3 * C);
// Every lookup checks presence, shape and dtype and throws sam3::Error naming the full key and the file.
//
// A scope over a WeightCollector loads nothing: it records every tensor the modules ask for, which makes the module
// constructors the one description of the checkpoint (model/weights_schema.h). Constructors therefore ask for their
// tensors in the checkpoint's order (the upstream __init__ registration order), declare the checkpoint tensors they
// never read with unused(), and look at tensor data only when !collecting().
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/precision.h"
#include "core/tensor.h"

namespace sam3::nn {

using TensorMap = std::map<std::string, Tensor>;

// One tensor of a state dict: full key, shape and dtype.
struct TensorSpec {
  std::string name;
  Shape shape;
  DType dtype = DType::F32;
};

// What a collecting ParamScope records: the specs in request order. The tensors it hands out have the requested
// shape and dtype but all borrow one zero-filled block (calloc'd, so untouched pages cost no memory), the size of
// the largest request so far: collecting the full model costs one block of its largest tensor, not 3.4 GB.
class WeightCollector {
 public:
  const std::vector<TensorSpec>& specs() const { return specs_; }

 private:
  friend class ParamScope;
  // The tensor for `key`; a repeated key must repeat its shape and dtype and is recorded once.
  const Tensor& record(const std::string& key, const Shape& shape, DType dtype);

  std::vector<TensorSpec> specs_;
  std::map<std::string, Tensor> tensors_;
  std::shared_ptr<void> zeros_;
  size_t zero_bytes_ = 0;
};

class ParamScope {
 public:
  // `tensors` must outlive the scope; `source` names the file in messages.
  ParamScope(const TensorMap& tensors, std::string source, std::string prefix = "");
  // A collecting scope: `collector` (which must outlive the scope) records every get() and unused().
  explicit ParamScope(WeightCollector& collector, std::string prefix = "");

  ParamScope sub(const std::string& name) const;  // prefix + name + "."
  // The same scope with another matmul precision: the precision Linear layers (and attention projections) loaded
  // through it are converted to (F32: used as stored). Inherited by sub().
  ParamScope with_precision(Precision precision) const;
  ParamScope f32() const { return with_precision(Precision::F32); }
  Precision precision() const { return precision_; }
  ParamScope sub(int index) const;                // prefix + index + "."

  // The tensor prefix+name, which must have exactly this shape and dtype. Collecting: records the spec and returns
  // a zero tensor of that shape and dtype.
  const Tensor& get(const std::string& name, const Shape& shape, DType dtype = DType::F32) const;
  // A checkpoint tensor the module never reads (e.g. the geometry encoder's points_* projections). Collecting:
  // records the spec; loading: does nothing (strict validation, validate_weights, still requires it).
  void unused(const std::string& name, const Shape& shape, DType dtype = DType::F32) const;
  // The tensor prefix+name with any shape (callers check what they need). Collecting: throws, since a spec needs a
  // shape.
  const Tensor& get_any(const std::string& name) const;
  // Whether the file has prefix+name. Collecting: throws, since the expected tensors must follow from the config
  // alone, not from what a file happens to contain.
  bool has(const std::string& name) const;

  bool collecting() const { return collector_ != nullptr; }
  std::string key(const std::string& name) const { return prefix_ + name; }
  const std::string& prefix() const { return prefix_; }
  const std::string& source() const { return source_; }

 private:
  ParamScope(const TensorMap* tensors, WeightCollector* collector, std::string source, std::string prefix);

  const TensorMap* tensors_;     // null when collecting
  WeightCollector* collector_;  // null when loading
  std::string source_;
  std::string prefix_;
  Precision precision_ = Precision::F32;
};

}  // namespace sam3::nn
