// sam3.cpp — wall-time helpers on the steady clock, shared by the library and the front ends (header only).
#pragma once
#include <chrono>

namespace sam3 {

using Clock = std::chrono::steady_clock;

// Milliseconds / seconds elapsed since t0.
inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// A stopwatch for stage timings: seconds()/ms() since the start; lap_seconds() also restarts it.
class Stopwatch {
 public:
  double seconds() const { return seconds_since(t0_); }
  double ms() const { return ms_since(t0_); }
  double lap_seconds() {
    const Clock::time_point now = Clock::now();
    const double s = std::chrono::duration<double>(now - t0_).count();
    t0_ = now;
    return s;
  }

 private:
  Clock::time_point t0_ = Clock::now();
};

}  // namespace sam3
