// sam3.cpp — PackedWeight accessors (see kernels/packed_weight.h).
#include "kernels/packed_weight.h"

#include <cstdlib>

namespace sam3::ops {

void* load_buffer_allocate(size_t bytes) {
  void* p = std::malloc(bytes ? bytes : 1);
  if (!p) throw std::bad_alloc();
  return p;
}

void load_buffer_free(void* p) noexcept { std::free(p); }

std::vector<uint16_t> PackedWeight::bf16() const {
  if (!onednn) return std::vector<uint16_t>(bf16_plain.data(), bf16_plain.data() + n * k);
  std::vector<uint16_t> w(static_cast<size_t>(n * k));
  onednn->unpack(w.data());
  return w;
}

std::vector<int8_t> PackedWeight::s8() const {
  if (!onednn) return std::vector<int8_t>(s8_plain.data(), s8_plain.data() + n * k);
  std::vector<int8_t> w(static_cast<size_t>(n * k));
  onednn->unpack(w.data());
  return w;
}

}  // namespace sam3::ops
