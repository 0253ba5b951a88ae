// sam3.cpp — error type used across the library. Every user-facing failure (bad file, bad shape, bad option)
// is reported by throwing sam3::Error with a message that names the offending thing.
#pragma once
#include <stdexcept>
#include <string>

namespace sam3 {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

}  // namespace sam3
