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
#include <functional>
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
  // A matmul weight (ParamScope::matmul_weight: a Linear weight, an attention in_proj_weight): the precision the
  // scope it was asked through packs it to; F32 (used as stored) for everything else. What `sam3 convert` stores
  // each weight as follows from it (docs/weights.md).
  Precision packed = Precision::F32;
};

// A matmul weight as the file stores it (ParamScope::matmul_weight).
struct StoredWeight {
  Tensor weight;  // [out, in]: F32, or a converted file's BF16 / I8 / F16
  Tensor scale;   // I8 only: the per-output-channel scale, F32 [out]
};

// What a collecting ParamScope records: the specs in request order. The tensors it hands out have the requested
// shape and dtype but all borrow one zero-filled block (calloc'd, so untouched pages cost no memory), the size of
// the largest request so far: collecting the full model costs one block of its largest tensor, not 3.4 GB.
class WeightCollector {
 public:
  const std::vector<TensorSpec>& specs() const { return specs_; }

 private:
  friend class ParamScope;
  // The tensor for `key`; a repeated key must repeat its shape, dtype and packed precision and is recorded once.
  const Tensor& record(const std::string& key, const Shape& shape, DType dtype, Precision packed = Precision::F32);

  std::vector<TensorSpec> specs_;
  std::map<std::string, Tensor> tensors_;
  std::shared_ptr<void> zeros_;
  size_t zero_bytes_ = 0;
};

class ParamScope {
 public:
  // Called with a loaded tensor whose data was converted (packed) and will not be read again: the loader may give
  // its memory back (WeightFile::release).
  using Release = std::function<void(const Tensor&)>;

  // `tensors` must outlive the scope; `source` names the file in messages; `release` may be empty (keep all).
  ParamScope(const TensorMap& tensors, std::string source, std::string prefix = "", Release release = {});
  // A collecting scope: `collector` (which must outlive the scope) records every get() and unused().
  explicit ParamScope(WeightCollector& collector, std::string prefix = "");

  ParamScope sub(const std::string& name) const;  // prefix + name + "."
  // The same scope with another matmul precision: the precision Linear layers (and attention projections) loaded
  // through it are converted to (F32: used as stored). Inherited by sub().
  ParamScope with_precision(Precision precision) const;
  ParamScope f32() const { return with_precision(Precision::F32); }
  Precision precision() const { return precision_; }
  // The same scope with packing deferred to first use (nn/packed_ref.h): for a module that may never run, whose
  // reduced-precision copy should not be made at load. Inherited by sub().
  ParamScope defer_packing() const;
  bool packing_deferred() const { return defer_packing_; }
  ParamScope sub(int index) const;                // prefix + index + "."

  // The tensor prefix+name, which must have exactly this shape and dtype. Collecting: records the spec and returns
  // a zero tensor of that shape and dtype.
  const Tensor& get(const std::string& name, const Shape& shape, DType dtype = DType::F32) const;
  // The matmul weight prefix+name [out, in] of a Linear layer or an attention projection, which its module packs to
  // precision() (ops::pack_weight) unless that is F32. Besides F32 it accepts what a converted file stores for
  // precision() (docs/weights.md): BF16 for BF16; I8 with its scale prefix+name+".scale" (F32 [out]) for Int8; F16
  // for BF16 or Int8 (pack_weight converts it; for F32 the loader expands F16 first). Anything else throws
  // sam3::Error naming the key, its dtype and the precision. Collecting: records the F32 spec with
  // `packed = precision()` and returns a zero F32 tensor.
  StoredWeight matmul_weight(const std::string& name, const Shape& shape) const;
  // The loader's release hook for a tensor this scope handed out (see Release); does nothing without one.
  void release(const Tensor& t) const;
  // That hook itself (null: keep everything), for packing that happens after the scope is gone.
  std::shared_ptr<const Release> release_hook() const { return collecting() ? nullptr : release_; }

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
  std::shared_ptr<const Release> release_;  // null: keep everything
  std::string source_;
  std::string prefix_;
  Precision precision_ = Precision::F32;
  bool defer_packing_ = false;
};

}  // namespace sam3::nn
