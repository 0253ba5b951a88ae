// sam3.cpp — wall-time helpers on the steady clock, shared by the library and the front ends (header only).
#pragma once
#include <chrono>

namespace sam3 {

using Clock = std::chrono::steady_clock;

// Milliseconds / seconds elapsed since t0.
inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace sam3
