// sam3.cpp — result_memory_bytes(): what a PromptResult holds in memory (the server's cache accounting).
#include "api/internal.h"
#include "sam3/sam3.h"

namespace sam3 {

namespace {

int64_t tensor_bytes(const Tensor& t) { return t.defined() ? static_cast<int64_t>(t.nbytes()) : 0; }

// A mask holds its runs (4 bytes each), not a bitmap.
int64_t mask_bytes(const Mask& m) { return static_cast<int64_t>(m.counts.size() * sizeof(uint32_t)); }

}  // namespace

int64_t result_memory_bytes(const PromptResult& r) {
  int64_t n = static_cast<int64_t>(r.probs.size() * sizeof(float)) + mask_bytes(r.semantic);
  for (const Instance& in : r.instances) n += mask_bytes(in.mask);
  if (r.outputs) {
    const DetectorOutputs& o = r.outputs->raw;
    n += tensor_bytes(o.pred_logits) + tensor_bytes(o.pred_boxes) + tensor_bytes(o.pred_masks) +
         tensor_bytes(o.semantic_seg);
  }
  return n;
}

}  // namespace sam3
