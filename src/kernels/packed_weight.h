// sam3.cpp — a Linear layer's weight converted once, at load, to a reduced precision (ops::pack_weight) and laid
// out for this CPU's matmul kernel. Model code holds it opaquely (ops.h); only the kernels look inside.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "core/precision.h"
#include "kernels/cpu/onednn_matmul.h"

namespace sam3::ops {

// The allocator of the buffers weights are converted into at load: resize() leaves new elements uninitialised (they
// are written next). Measured on the full model in bf16 (sam3.pt, AVX2): std::vector's zero fill was 0.3 s of a
// 2.1 s CPU load. (Asking for transparent huge pages, madvise, made the load's system time 2x worse on the
// development machine, compaction: not done.)
void* load_buffer_allocate(size_t bytes);
void load_buffer_free(void* p) noexcept;
template <class T>
struct LoadAllocator {
  using value_type = T;
  LoadAllocator() = default;
  template <class U>
  LoadAllocator(const LoadAllocator<U>&) {}  // NOLINT: allocators convert implicitly
  T* allocate(size_t n) { return static_cast<T*>(load_buffer_allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t) noexcept { load_buffer_free(p); }
  template <class U, class... A>
  void construct(U* p, A&&... a) {
    if constexpr (sizeof...(A) == 0)
      ::new (static_cast<void*>(p)) U;  // default-initialised: left as it is for trivial types
    else
      ::new (static_cast<void*>(p)) U(std::forward<A>(a)...);
  }
  template <class U>
  bool operator==(const LoadAllocator<U>&) const { return true; }
  template <class U>
  bool operator!=(const LoadAllocator<U>&) const { return false; }
};
template <class T>
using LoadVector = std::vector<T, LoadAllocator<T>>;

// A plain [n,k] weight: owned, or borrowed in place (a converted file's BF16 / I8 tensor in its mapping, kept
// mapped by `keep`).
template <class T>
struct PlainWeight {
  LoadVector<T> owned;
  const T* borrowed = nullptr;
  std::shared_ptr<const void> keep;

  const T* data() const { return borrowed ? borrowed : owned.data(); }
  bool empty() const { return !borrowed && owned.empty(); }
};

struct PackedWeight {
  Precision precision = Precision::BF16;  // BF16 or Int8
  int64_t n = 0, k = 0;                   // the weight is [n, k]

  // Int8: per-output-channel scales and Σ_k q[n,k] (kernels/quantize.h), and the activations' levels (255, or 127
  // where u8·s8 products saturate: kernels::cpu::onednn_int8_saturates()).
  std::vector<float> scale;
  std::vector<int32_t> colsum;
  int act_levels = 255;

  // oneDNN's packed copy, or null when oneDNN has no kernel for this precision here (bf16 without AVX512-BF16/AMX):
  // then the plain [n,k] bits below are kept (converted here, or borrowed from a converted file) and the fallback
  // kernel is used.
  std::unique_ptr<kernels::cpu::OnednnMatmul> onednn;
  PlainWeight<uint16_t> bf16_plain;
  PlainWeight<int8_t> s8_plain;

  // The plain [n,k] weight whatever the storage (unpacks oneDNN's copy): for the reference back end and tests.
  std::vector<uint16_t> bf16() const;
  std::vector<int8_t> s8() const;
};

}  // namespace sam3::ops
