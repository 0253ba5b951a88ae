// sam3.cpp — threading. Every parallel region takes its thread count explicitly from the caller (which gets it
// from the public API's options); nothing here reads or writes global state.
#pragma once
#include <cstdint>

namespace sam3 {

// Number of threads to use when the user did not say: the number of online CPUs.
int default_thread_count();

// Runs f(i) for i in [0, n) on up to n_threads OpenMP threads (static schedule).
template <class F>
void parallel_for(int n_threads, int64_t n, F&& f) {
  if (n_threads <= 1 || n <= 1) {
    for (int64_t i = 0; i < n; ++i) f(i);
    return;
  }
#pragma omp parallel for num_threads(n_threads) schedule(static)
  for (int64_t i = 0; i < n; ++i) f(i);
}

// Same, dynamic schedule: for uneven work items (e.g. attention tiles).
template <class F>
void parallel_for_dynamic(int n_threads, int64_t n, F&& f) {
  if (n_threads <= 1 || n <= 1) {
    for (int64_t i = 0; i < n; ++i) f(i);
    return;
  }
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
  for (int64_t i = 0; i < n; ++i) f(i);
}

}  // namespace sam3
