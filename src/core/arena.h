// sam3.cpp — scratch arena: bump allocation in 64-byte aligned blocks, released in stack order. Activations come from
// here so that repeated encodes and prompts reuse the same memory instead of hitting the allocator.
//
// A fixed arena (the default) is sized up front (e.g. to the image encoder's scratch_bytes()) and throws when a
// request does not fit: a wrong size plan is found, not hidden. A growable arena adds a block instead; once
// everything is released again, its blocks are merged into one of the peak size, so a repeated workload (the
// per-prompt modules) settles into a single block after its first run without anyone computing its size by hand.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace sam3 {

class Arena {
 public:
  enum class Growth : uint8_t { Fixed, Grow };
  explicit Arena(size_t capacity_bytes = 0, Growth growth = Growth::Fixed);

  // Bytes alloc(shape, dtype) takes: the payload rounded up to the 64-byte alignment (for sizing an arena from the
  // shapes a forward pass allocates, never by hand).
  static size_t bytes_for(const Shape& shape, DType dtype = DType::F32) {
    return (static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype) + 63) / 64 * 64;
  }
  // A tensor over arena memory (64-byte aligned). Valid until the mark taken before it is released. A fixed arena
  // throws sam3::Error when it is exhausted.
  Tensor alloc(const Shape& shape, DType dtype = DType::F32);
  // Everything allocated after `mark()` is released by `release(mark)`.
  size_t mark() const { return used_; }
  void release(size_t mark);
  void reset() { release(0); }

  size_t capacity() const;             // bytes over all blocks
  size_t used() const { return used_; }  // bytes in use (block tails skipped over included)
  size_t peak() const { return peak_; }
  size_t blocks() const { return blocks_.size(); }
  Growth growth() const { return growth_; }

 private:
  struct Block {
    std::shared_ptr<void> data;
    size_t base = 0, size = 0;  // logical offsets [base, base + size)
  };
  void add_block(size_t min_bytes);

  Growth growth_;
  std::vector<Block> blocks_;
  size_t used_ = 0;  // logical top: allocations live in [0, used_)
  size_t peak_ = 0;
};

// Releases everything allocated in its scope on destruction.
class ArenaScope {
 public:
  explicit ArenaScope(Arena& a) : arena_(&a), mark_(a.mark()) {}
  // No arena: nothing to release (scratch then comes from the heap).
  explicit ArenaScope(Arena* a) : arena_(a), mark_(a ? a->mark() : 0) {}
  ~ArenaScope() {
    if (arena_) arena_->release(mark_);
  }
  ArenaScope(const ArenaScope&) = delete;
  ArenaScope& operator=(const ArenaScope&) = delete;

 private:
  Arena* arena_;
  size_t mark_;
};

}  // namespace sam3
