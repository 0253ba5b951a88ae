// sam3.cpp — a matmul weight's reduced-precision copy (ops::pack_weight), packed at load or on first use.
// A stored weight [out, in] is packed as one or more row ranges (one for a Linear; q, k, v for an attention's
// in-projection), each behind a PackedRef. Where the scope defers packing (ParamScope::defer_packing: the text
// encoder, which a process that only encodes images never runs), the f32 source stays in the checkpoint's mapping
// until the first forward packs every range of the weight; the others wait for it (std::call_once). Once packed,
// the source's pages are given back (ParamScope's release hook) unless a packed range still reads them.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/ops.h"
#include "nn/params.h"

namespace sam3::nn {

class PackedGroup;  // the packing of one stored weight's ranges (packed_ref.cpp)

class PackedRef {
 public:
  PackedRef() = default;  // null: the weight is used as stored (f32)
  explicit operator bool() const { return group_ != nullptr; }
  // The packed range; packs the whole weight first if that was deferred and has not happened yet (thread-safe).
  const ops::PackedWeight& operator*() const;
  const ops::PackedWeight* operator->() const { return &**this; }
  bool packed_yet() const;  // false while deferred packing has not run

 private:
  friend std::vector<PackedRef> pack_row_ranges(const ParamScope&, const StoredWeight&, const std::vector<int64_t>&);
  std::shared_ptr<PackedGroup> group_;
  size_t index_ = 0;
};

// Rows [bounds[i], bounds[i+1]) of w, one PackedRef each (bounds: ascending, from 0 to w's rows), packed to
// p.precision() now or, where p defers packing, on first use. All null when p.precision() is F32 or p is collecting.
std::vector<PackedRef> pack_row_ranges(const ParamScope& p, const StoredWeight& w, const std::vector<int64_t>& bounds);

}  // namespace sam3::nn
