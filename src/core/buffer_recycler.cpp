#include "core/buffer_recycler.h"

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"

namespace sam3 {

struct BufferRecycler::Pool {
  struct Block {
    void* p;
    size_t bytes;
  };
  std::mutex mu;
  std::vector<Block> free;  // oldest first
  size_t max_blocks;

  explicit Pool(size_t n) : max_blocks(n) {}
  ~Pool() {
    for (const Block& b : free) std::free(b.p);
  }
  void* take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu);
    for (size_t i = free.size(); i-- > 0;)
      if (free[i].bytes == bytes) {
        void* p = free[i].p;
        free.erase(free.begin() + static_cast<std::ptrdiff_t>(i));
        return p;
      }
    return nullptr;
  }
  void give_back(void* p, size_t bytes) {
    void* dropped = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (max_blocks == 0) {
        dropped = p;
      } else {
        if (free.size() == max_blocks) {
          dropped = free.front().p;
          free.erase(free.begin());
        }
        free.push_back(Block{p, bytes});
      }
    }
    std::free(dropped);
  }
};

BufferRecycler::BufferRecycler(size_t max_blocks) : pool_(std::make_shared<Pool>(max_blocks)) {}
BufferRecycler::~BufferRecycler() = default;

Tensor BufferRecycler::empty(const Shape& shape, DType dtype) {
  const size_t bytes = Tensor::borrow(nullptr, shape, dtype).nbytes();  // Tensor's shape and size checks
  if (bytes > SIZE_MAX - 63) throw Error("tensor " + shape_str(shape) + " is larger than the address space");
  const size_t rounded = bytes == 0 ? 64 : (bytes + 63) / 64 * 64;
  void* p = pool_->take(rounded);
  if (!p) p = std::aligned_alloc(64, rounded);
  if (!p) throw Error("out of memory allocating " + std::to_string(bytes) + " bytes for tensor " + shape_str(shape));
  std::weak_ptr<Pool> home = pool_;
  std::shared_ptr<const void> keep(p, [home, rounded](const void* q) {
    void* block = const_cast<void*>(q);
    if (auto pool = home.lock())
      pool->give_back(block, rounded);
    else
      std::free(block);
  });
  return Tensor::borrow(p, shape, dtype, std::move(keep));
}

size_t BufferRecycler::free_bytes() const {
  std::lock_guard<std::mutex> lock(pool_->mu);
  size_t n = 0;
  for (const Pool::Block& b : pool_->free) n += b.bytes;
  return n;
}

void BufferRecycler::clear() {
  std::vector<Pool::Block> held;
  {
    std::lock_guard<std::mutex> lock(pool_->mu);
    held.swap(pool_->free);
  }
  for (const Pool::Block& b : held) std::free(b.p);
}

}  // namespace sam3
