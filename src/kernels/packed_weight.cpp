// sam3.cpp — PackedWeight accessors (see kernels/packed_weight.h).
#include "kernels/packed_weight.h"

namespace sam3::ops {

std::vector<uint16_t> PackedWeight::bf16() const {
  if (!onednn) return bf16_plain;
  std::vector<uint16_t> w(static_cast<size_t>(n * k));
  onednn->unpack(w.data());
  return w;
}

std::vector<int8_t> PackedWeight::s8() const {
  if (!onednn) return s8_plain;
  std::vector<int8_t> w(static_cast<size_t>(n * k));
  onednn->unpack(w.data());
  return w;
}

}  // namespace sam3::ops
