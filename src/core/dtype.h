// sam3.cpp — element types. Names follow safetensors ("F32", "BF16", ...).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace sam3 {

enum class DType : uint8_t { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool, C64 };

size_t dtype_size(DType t);               // bytes per element (C64 = 8: two f32)
const char* dtype_name(DType t);          // "F32", "C64", ...
bool dtype_from_name(const std::string& name, DType* out);  // inverse of dtype_name; false if unknown

}  // namespace sam3
