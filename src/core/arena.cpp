#include "core/arena.h"

#include <cstdlib>

#include "core/error.h"

namespace sam3 {

namespace {
size_t round64(size_t n) { return (n + 63) / 64 * 64; }
}  // namespace

Arena::Arena(size_t capacity_bytes, Growth growth) : growth_(growth) {
  if (capacity_bytes > 0) add_block(capacity_bytes);
}

size_t Arena::capacity() const { return blocks_.empty() ? 0 : blocks_.back().base + blocks_.back().size; }

void Arena::add_block(size_t min_bytes) {
  // Geometric growth: at least double what the arena already holds, so a growing workload adds few blocks.
  const size_t bytes = round64(std::max(min_bytes, capacity()));
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw Error("out of memory allocating a scratch arena block of " + std::to_string(bytes) + " bytes");
  blocks_.push_back(Block{std::shared_ptr<void>(p, [](void* q) { std::free(q); }), capacity(), bytes});
}

Tensor Arena::alloc(const Shape& shape, DType dtype) {
  const size_t rounded = bytes_for(shape, dtype);
  if (growth_ == Growth::Fixed && used_ + rounded > capacity())
    throw Error("scratch arena exhausted: need " + std::to_string(rounded) + " more bytes for " + shape_str(shape) +
                ", " + std::to_string(capacity() - used_) + " of " + std::to_string(capacity()) + " left");
  // The block holding the top; a request that does not fit in its rest moves on to the next block (added if needed).
  size_t k = 0;
  while (k < blocks_.size() && used_ >= blocks_[k].base + blocks_[k].size) ++k;
  while (k < blocks_.size() && used_ + rounded > blocks_[k].base + blocks_[k].size) {
    if (k + 1 < blocks_.size() && blocks_[k + 1].size >= rounded) {
      used_ = blocks_[++k].base;
    } else {
      blocks_.resize(k + 1);  // later blocks are empty (bump order) and too small: replace them
      add_block(rounded);
      used_ = blocks_[++k].base;
    }
  }
  if (k == blocks_.size()) {
    add_block(rounded);
    used_ = blocks_[k].base;
  }
  const Block& b = blocks_[k];
  void* p = static_cast<char*>(b.data.get()) + (used_ - b.base);
  used_ += rounded;
  if (used_ > peak_) peak_ = used_;
  return Tensor::borrow(p, shape, dtype, b.data);
}

void Arena::release(size_t mark) {
  if (mark > used_) throw Error("Arena::release: mark beyond the current top");
  used_ = mark;
  if (used_ == 0 && blocks_.size() > 1) {  // merge into one block of the peak size (live tensors keep theirs alive)
    blocks_.clear();
    add_block(peak_);
  }
}

}  // namespace sam3
