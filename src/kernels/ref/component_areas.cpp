// sam3.cpp — reference connected-component areas: a breadth-first flood fill per component, 8-connectivity.
// ref: skimage.measure.label (connectivity=2) as sam3/model/utils/sam1_utils.py (postprocess_masks) uses it
#include <vector>

#include "kernels/ref.h"

namespace sam3::kernels::ref {

void component_areas(const uint8_t* mask, int64_t n, int64_t h, int64_t w, int32_t* areas) {
  std::vector<int64_t> queue, members;
  for (int64_t m = 0; m < n; ++m) {
    const uint8_t* in = mask + m * h * w;
    int32_t* out = areas + m * h * w;
    std::vector<uint8_t> seen(static_cast<size_t>(h * w), 0);
    for (int64_t p = 0; p < h * w; ++p) out[p] = 0;
    for (int64_t start = 0; start < h * w; ++start) {
      if (!in[start] || seen[static_cast<size_t>(start)]) continue;
      queue.assign(1, start);
      members.clear();
      seen[static_cast<size_t>(start)] = 1;
      while (!queue.empty()) {
        const int64_t p = queue.back();
        queue.pop_back();
        members.push_back(p);
        const int64_t y = p / w, x = p % w;
        for (int64_t dy = -1; dy <= 1; ++dy)
          for (int64_t dx = -1; dx <= 1; ++dx) {
            const int64_t yy = y + dy, xx = x + dx;
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
            const int64_t q = yy * w + xx;
            if (in[q] && !seen[static_cast<size_t>(q)]) {
              seen[static_cast<size_t>(q)] = 1;
              queue.push_back(q);
            }
          }
      }
      for (int64_t p : members) out[p] = static_cast<int32_t>(members.size());
    }
  }
}

}  // namespace sam3::kernels::ref
