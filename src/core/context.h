// sam3.cpp — the run context that every forward pass and every op takes: how many threads, where scratch tensors
// come from, where intermediates are recorded, and which kernels run.
//
//   RunContext ctx{n_threads, &state_arena, &dumper};
//   model.forward(..., ctx);              // modules pass ctx down unchanged; ops read ctx.backend
//
// A context is a handful of borrowed pointers created by the caller of a forward pass (the public API); it holds no
// state of its own, so two contexts never interfere.
#pragma once
#include <cstdint>
#include <string>

#include "core/arena.h"
#include "core/buffer_recycler.h"
#include "core/dump.h"
#include "core/tensor.h"

namespace sam3 {

// Which kernels the ops run. core/ops.cpp is the only place that reads it (model code never names a kernel).
//   Cpu: the optimised kernels (src/kernels/cpu), each choosing its instruction set at run time;
//   Ref: the naive reference kernels (src/kernels/ref): slow, obviously right, the oracle tests compare with.
enum class Backend : uint8_t { Cpu, Ref };

struct RunContext {
  int n_threads = 1;
  Arena* arena = nullptr;   // scratch for intermediates (released by the module that took them); null: the heap
  Dumper* dumper = nullptr;  // null or disabled: nothing recorded
  Backend backend = Backend::Cpu;
  BufferRecycler* outputs = nullptr;  // where large outputs come from (output()); null: the heap

  // Scratch tensor for an intermediate: from the arena when there is one, otherwise owned. Never return such a
  // tensor from a forward pass that outlives the arena scope it was taken in (use Tensor::empty for outputs).
  Tensor scratch(const Shape& shape, DType dtype = DType::F32) const {
    return arena ? arena->alloc(shape, dtype) : Tensor::empty(shape, dtype);
  }
  // A large output tensor (uninitialised) that outlives the forward pass: from the recycler when there is one
  // (memory given back by earlier outputs of the same size: no page faults), otherwise Tensor::empty.
  Tensor output(const Shape& shape, DType dtype = DType::F32) const {
    return outputs ? outputs->empty(shape, dtype) : Tensor::empty(shape, dtype);
  }
  // The dump hook: records a copy of `t` under the fixture name `name` when dumping, otherwise does nothing.
  // Recording never changes what is computed.
  bool dumping() const { return dumper && dumper->enabled(); }
  void dump(const std::string& name, const Tensor& t) const {
    if (dumping()) dumper->add(name, t);
  }
};

}  // namespace sam3
