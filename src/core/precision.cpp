// sam3.cpp — precision names (see core/precision.h).
#include "core/precision.h"

namespace sam3 {

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::F32: return "f32";
    case Precision::BF16: return "bf16";
    case Precision::Int8: return "int8";
  }
  return "?";
}

bool precision_from_name(const std::string& name, Precision* out) {
  for (Precision p : {Precision::F32, Precision::BF16, Precision::Int8}) {
    if (name == precision_name(p)) {
      *out = p;
      return true;
    }
  }
  return false;
}

}  // namespace sam3
