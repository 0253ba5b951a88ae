// sam3.cpp — wall-clock stopwatch for the timings the API reports (steady clock).
#pragma once
#include <chrono>

namespace sam3 {

class Stopwatch {
 public:
  Stopwatch() : t0_(Clock::now()) {}
  double seconds() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }
  double ms() const { return seconds() * 1e3; }
  // The time since the start (or the previous lap), then restart.
  double lap_seconds() {
    const auto now = Clock::now();
    const double s = std::chrono::duration<double>(now - t0_).count();
    t0_ = now;
    return s;
  }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point t0_;
};

}  // namespace sam3
