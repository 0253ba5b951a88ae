#include "core/parallel.h"

#include <thread>

namespace sam3 {

int default_thread_count() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace sam3
