#include "core/tensor.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace sam3 {

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) throw Error("negative dimension in shape " + shape_str(s));
    if (__builtin_mul_overflow(n, d, &n)) throw Error("shape " + shape_str(s) + " has more than 2^63 elements");
  }
  return n;
}

size_t Tensor::nbytes() const {
  size_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(numel()), dtype_size(dtype_), &bytes))
    throw Error("tensor " + shape_str(shape_) + " of " + dtype_name(dtype_) + " is larger than the address space");
  return bytes;
}

namespace {
struct AlignedFree {
  void operator()(const void* p) const { std::free(const_cast<void*>(p)); }
};
}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  for (int64_t d : shape) {
    if (d < 0) throw Error("Tensor::empty: negative dimension in shape " + shape_str(shape));
  }
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  const size_t bytes = t.nbytes();
  if (bytes > SIZE_MAX - 63) throw Error("tensor " + shape_str(shape) + " is larger than the address space");
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw Error("out of memory allocating " + std::to_string(bytes) + " bytes for tensor " + shape_str(shape));
  t.keep_ = std::shared_ptr<const void>(p, AlignedFree());
  t.data_ = p;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.data_, 0, t.nbytes());
  return t;
}

Tensor Tensor::borrow(void* data, const Shape& shape, DType dtype, std::shared_ptr<const void> keepalive) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.data_ = data;
  t.keep_ = std::move(keepalive);
  return t;
}

int64_t Tensor::size(int i) const {
  int n = dim();
  if (i < 0) i += n;
  if (i < 0 || i >= n) throw Error("Tensor::size: dimension " + std::to_string(i) + " out of range for " + shape_str(shape_));
  return shape_[static_cast<size_t>(i)];
}

float* Tensor::f32() {
  if (dtype_ != DType::F32) throw Error(std::string("expected an F32 tensor, got ") + dtype_name(dtype_));
  return static_cast<float*>(data_);
}

const float* Tensor::f32() const {
  if (dtype_ != DType::F32) throw Error(std::string("expected an F32 tensor, got ") + dtype_name(dtype_));
  return static_cast<const float*>(data_);
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape s = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (infer >= 0) throw Error("reshape: more than one -1 in " + shape_str(shape));
      infer = static_cast<int>(i);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel() % known != 0) throw Error("reshape: cannot infer " + shape_str(shape) + " from " + shape_str(shape_));
    s[static_cast<size_t>(infer)] = numel() / known;
  }
  if (shape_numel(s) != numel()) throw Error("reshape: " + shape_str(shape_) + " -> " + shape_str(shape) + " changes numel");
  Tensor t = *this;
  t.shape_ = s;
  return t;
}

Tensor Tensor::slice0(int64_t begin, int64_t end) const {
  if (dim() == 0 || begin < 0 || end < begin || end > shape_[0])
    throw Error("slice0: [" + std::to_string(begin) + ", " + std::to_string(end) + ") out of range for " + shape_str(shape_));
  Tensor t = *this;
  int64_t row = shape_[0] ? numel() / shape_[0] : 0;
  t.shape_[0] = end - begin;
  t.data_ = static_cast<char*>(data_) + static_cast<size_t>(begin * row) * dtype_size(dtype_);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape_, dtype_);
  if (nbytes()) std::memcpy(t.data_, data_, nbytes());
  return t;
}

void check_tensor(const Tensor& t, const Shape& shape, DType dtype, const std::string& what) {
  if (t.shape() != shape || t.dtype() != dtype) {
    throw Error(what + ": expected " + dtype_name(dtype) + " " + shape_str(shape) + ", got " + dtype_name(t.dtype()) +
                " " + shape_str(t.shape()));
  }
}

}  // namespace sam3
