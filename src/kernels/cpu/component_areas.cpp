// sam3.cpp — connected-component areas, 8-connectivity: one raster pass of union-find (path halving) over the
// previous row and the left neighbour, then a pass that counts and writes each root's size; maps in parallel.
#include <vector>

#include "core/parallel.h"
#include "kernels/cpu.h"

namespace sam3::kernels::cpu {

namespace {

int64_t find_root(std::vector<int64_t>& parent, int64_t a) {
  while (parent[static_cast<size_t>(a)] != a) {
    parent[static_cast<size_t>(a)] = parent[static_cast<size_t>(parent[static_cast<size_t>(a)])];
    a = parent[static_cast<size_t>(a)];
  }
  return a;
}

void unite(std::vector<int64_t>& parent, int64_t a, int64_t b) {
  a = find_root(parent, a);
  b = find_root(parent, b);
  if (a == b) return;
  if (a < b) std::swap(a, b);
  parent[static_cast<size_t>(a)] = b;
}

void one_map(const uint8_t* in, int64_t h, int64_t w, int32_t* out) {
  std::vector<int64_t> parent(static_cast<size_t>(h * w));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      const int64_t p = y * w + x;
      parent[static_cast<size_t>(p)] = p;
      if (!in[p]) continue;
      if (x > 0 && in[p - 1]) unite(parent, p, p - 1);
      if (y > 0) {
        for (int64_t dx = -1; dx <= 1; ++dx) {
          const int64_t xx = x + dx;
          if (xx >= 0 && xx < w && in[p - w + dx]) unite(parent, p, p - w + dx);
        }
      }
    }
  std::vector<int32_t> size(static_cast<size_t>(h * w), 0);
  for (int64_t p = 0; p < h * w; ++p)
    if (in[p]) ++size[static_cast<size_t>(find_root(parent, p))];
  for (int64_t p = 0; p < h * w; ++p) out[p] = in[p] ? size[static_cast<size_t>(find_root(parent, p))] : 0;
}

}  // namespace

void component_areas(const uint8_t* mask, int64_t n, int64_t h, int64_t w, int32_t* areas, int n_threads) {
  parallel_for(n_threads, n, [&](int64_t m) { one_map(mask + m * h * w, h, w, areas + m * h * w); });
}

}  // namespace sam3::kernels::cpu
