// sam3.cpp — the tensor type: a dtype, a shape in PyTorch order, and contiguous row-major data.
//
// Storage is either owned (allocated here, 64-byte aligned) or borrowed (e.g. a view into an mmapped
// checkpoint, or a slice of a scratch Arena). A borrowed tensor may carry a keep-alive handle so that the
// memory it points into outlives it. Copying a Tensor is cheap: copies share the same storage.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace sam3 {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& s);  // "[1, 3, 252, 252]"
int64_t shape_numel(const Shape& s);  // throws on a negative dimension or an int64 overflow

class Tensor {
 public:
  Tensor() = default;

  // Owned, uninitialised / zero-filled storage.
  static Tensor empty(const Shape& shape, DType dtype = DType::F32);
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32);
  // Borrowed storage: `data` must stay valid while `keepalive` (may be null) is held.
  static Tensor borrow(void* data, const Shape& shape, DType dtype, std::shared_ptr<const void> keepalive = {});

  bool defined() const { return data_ != nullptr || numel() == 0; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int dim() const { return static_cast<int>(shape_.size()); }
  int64_t size(int i) const;  // negative i counts from the end
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const;  // numel * element size; throws where that overflows

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <class T> T* data() { return static_cast<T*>(data_); }
  template <class T> const T* data() const { return static_cast<const T*>(data_); }
  float* f32();              // checks dtype == F32
  const float* f32() const;  // checks dtype == F32

  // Same storage, new shape (numel must match). One dimension may be -1.
  Tensor reshape(const Shape& shape) const;
  // Rows [begin, end) of the first dimension, sharing storage.
  Tensor slice0(int64_t begin, int64_t end) const;
  // Owned deep copy.
  Tensor clone() const;
  // The keep-alive handle shared by all views of this storage.
  const std::shared_ptr<const void>& keepalive() const { return keep_; }

 private:
  DType dtype_ = DType::F32;
  Shape shape_;
  void* data_ = nullptr;
  std::shared_ptr<const void> keep_;
};

// Throws sam3::Error naming `what` unless t has exactly this shape and dtype.
void check_tensor(const Tensor& t, const Shape& shape, DType dtype, const std::string& what);

}  // namespace sam3
