// sam3.cpp — output tensors whose memory is used again once the tensors holding it are gone. A prompt's mask logits
// (200 x 288 x 288 floats, 66 MB) are a fresh allocation per prompt; glibc gives blocks over 32 MB back to the
// kernel on free, so each prompt paid their page faults again: measured 70-140 ms per prompt on a 2-core Xeon VM
// against 40 ms for the product that fills them (docs/segment.md). An ImageState keeps one recycler for its prompts'
// outputs.
//
//   BufferRecycler r(/*max_blocks=*/2);
//   Tensor t = r.empty({200, 288, 288});  // a block of this size given back earlier, else a new one
//   t = Tensor();                         // the block goes back to r (or is freed when r keeps max_blocks or is gone)
#pragma once
#include <cstddef>
#include <memory>

#include "core/tensor.h"

namespace sam3 {

class BufferRecycler {
 public:
  // Keeps at most `max_blocks` free blocks (the most recently given back); more are freed.
  explicit BufferRecycler(size_t max_blocks);
  ~BufferRecycler();
  BufferRecycler(const BufferRecycler&) = delete;
  BufferRecycler& operator=(const BufferRecycler&) = delete;

  // An uninitialised tensor (64-byte aligned) whose block comes back here when the last tensor sharing it is gone,
  // from any thread, even after this recycler is destroyed (then it is freed).
  Tensor empty(const Shape& shape, DType dtype = DType::F32);
  size_t free_bytes() const;  // held for reuse
  void clear();               // frees what is held (tensors still alive come back later as usual)

 private:
  struct Pool;
  std::shared_ptr<Pool> pool_;
};

}  // namespace sam3
