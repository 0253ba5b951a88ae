// sam3.cpp — a module's parameters: a view of the state dict under a key prefix.
//
// Blocks in src/nn and src/model are built from a ParamScope, so the C++ module tree is the state-dict tree:
//   ParamScope trunk = root.sub("backbone").sub("vision_backbone").sub("trunk");
//   nn::Linear qkv = nn::Linear::load(trunk.sub("blocks").sub(3).sub("attn").sub("qkv"), C, 3 * C);
// Every lookup checks presence, shape and dtype and throws sam3::Error naming the full key and the file.
#pragma once
#include <map>
#include <string>

#include "core/tensor.h"

namespace sam3::nn {

using TensorMap = std::map<std::string, Tensor>;

class ParamScope {
 public:
  // `tensors` must outlive the scope; `source` names the file in messages.
  ParamScope(const TensorMap& tensors, std::string source, std::string prefix = "");

  ParamScope sub(const std::string& name) const;  // prefix + name + "."
  ParamScope sub(int index) const;                // prefix + index + "."

  // The tensor prefix+name, which must have exactly this shape and dtype.
  const Tensor& get(const std::string& name, const Shape& shape, DType dtype = DType::F32) const;
  // The tensor prefix+name with any shape (callers check what they need).
  const Tensor& get_any(const std::string& name) const;
  bool has(const std::string& name) const;

  std::string key(const std::string& name) const { return prefix_ + name; }
  const std::string& prefix() const { return prefix_; }
  const std::string& source() const { return source_; }

 private:
  const TensorMap* tensors_;
  std::string source_;
  std::string prefix_;
};

}  // namespace sam3::nn
