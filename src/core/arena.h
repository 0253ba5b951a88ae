// sam3.cpp — scratch arena: one aligned block, bump allocation, reset between uses. Activations come from here
// so that repeated prompts reuse the same memory instead of hitting the allocator.
#pragma once
#include <cstddef>
#include <memory>

#include "core/tensor.h"

namespace sam3 {

class Arena {
 public:
  explicit Arena(size_t capacity_bytes = 0);

  // A tensor over arena memory (64-byte aligned). Throws sam3::Error if the arena is exhausted.
  Tensor alloc(const Shape& shape, DType dtype = DType::F32);
  // Everything allocated after `mark()` is released by `release(mark)`.
  size_t mark() const { return used_; }
  void release(size_t mark);
  void reset() { used_ = 0; }

  size_t capacity() const { return capacity_; }
  size_t used() const { return used_; }
  size_t peak() const { return peak_; }

 private:
  std::shared_ptr<void> block_;
  size_t capacity_ = 0;
  size_t used_ = 0;
  size_t peak_ = 0;
};

// Releases everything allocated in its scope on destruction.
class ArenaScope {
 public:
  explicit ArenaScope(Arena& a) : arena_(a), mark_(a.mark()) {}
  ~ArenaScope() { arena_.release(mark_); }
  ArenaScope(const ArenaScope&) = delete;
  ArenaScope& operator=(const ArenaScope&) = delete;

 private:
  Arena& arena_;
  size_t mark_;
};

}  // namespace sam3
