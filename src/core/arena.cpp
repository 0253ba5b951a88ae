#include "core/arena.h"

#include <cstdlib>

#include "core/error.h"

namespace sam3 {

Arena::Arena(size_t capacity_bytes) : capacity_((capacity_bytes + 63) / 64 * 64) {
  if (capacity_ == 0) return;
  void* p = std::aligned_alloc(64, capacity_);
  if (!p) throw Error("out of memory allocating a scratch arena of " + std::to_string(capacity_) + " bytes");
  block_ = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

Tensor Arena::alloc(const Shape& shape, DType dtype) {
  size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  size_t rounded = (bytes + 63) / 64 * 64;
  if (used_ + rounded > capacity_) {
    throw Error("scratch arena exhausted: need " + std::to_string(rounded) + " more bytes for " + shape_str(shape) +
                ", " + std::to_string(capacity_ - used_) + " of " + std::to_string(capacity_) + " left");
  }
  void* p = static_cast<char*>(block_.get()) + used_;
  used_ += rounded;
  if (used_ > peak_) peak_ = used_;
  return Tensor::borrow(p, shape, dtype, block_);
}

void Arena::release(size_t mark) {
  if (mark > used_) throw Error("Arena::release: mark beyond the current top");
  used_ = mark;
}

}  // namespace sam3
