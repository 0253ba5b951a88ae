#include "nn/packed_ref.h"

#include <atomic>
#include <mutex>
#include <string>

#include "core/error.h"

namespace sam3::nn {

namespace {

// Rows [r0, r1) of a stored matmul weight packed to `precision` (an I8 weight's scale rows with it).
std::shared_ptr<const ops::PackedWeight> pack_rows(const StoredWeight& w, int64_t r0, int64_t r1, Precision precision) {
  const Tensor rows = w.weight.slice0(r0, r1);
  if (!w.scale.defined() || w.scale.raw() == nullptr) return ops::pack_weight(rows, nullptr, precision);
  if (w.scale.dim() != 1 || w.scale.size(0) != w.weight.size(0))
    throw Error("pack_rows: the scale " + shape_str(w.scale.shape()) + " does not match the weight " +
                shape_str(w.weight.shape()));
  const Tensor scale = w.scale.slice0(r0, r1);
  return ops::pack_weight(rows, &scale, precision);
}

}  // namespace

class PackedGroup {
 public:
  PackedGroup(StoredWeight w, std::vector<int64_t> bounds, Precision precision,
              std::shared_ptr<const ParamScope::Release> release)
      : w_(std::move(w)), bounds_(std::move(bounds)), precision_(precision), release_(std::move(release)) {}

  const ops::PackedWeight& get(size_t i) {
    std::call_once(once_, [this] { pack(); });
    return *packed_[i];
  }
  bool done() const { return done_.load(std::memory_order_acquire); }

 private:
  void pack() {
    packed_.clear();  // a pack that threw is retried from the start by the next call
    bool borrows = false;
    for (size_t i = 0; i + 1 < bounds_.size(); ++i) {
      packed_.push_back(pack_rows(w_, bounds_[i], bounds_[i + 1], precision_));
      borrows = borrows || ops::packed_weight_borrows(*packed_.back());
    }
    if (!borrows && release_) (*release_)(w_.weight);
    done_.store(true, std::memory_order_release);
  }

  const StoredWeight w_;  // keeps the source (and its mapping) alive until packed
  const std::vector<int64_t> bounds_;
  const Precision precision_;
  const std::shared_ptr<const ParamScope::Release> release_;
  std::once_flag once_;
  std::atomic<bool> done_{false};
  std::vector<std::shared_ptr<const ops::PackedWeight>> packed_;
};

const ops::PackedWeight& PackedRef::operator*() const {
  if (!group_) throw Error("PackedRef: the weight is not packed (f32)");
  return group_->get(index_);
}

bool PackedRef::packed_yet() const { return group_ && group_->done(); }

std::vector<PackedRef> pack_row_ranges(const ParamScope& p, const StoredWeight& w, const std::vector<int64_t>& bounds) {
  if (bounds.size() < 2 || bounds.front() != 0 || bounds.back() != w.weight.size(0))
    throw Error("pack_row_ranges: the row bounds do not cover '" + p.prefix() + "' " + shape_str(w.weight.shape()));
  for (size_t i = 0; i + 1 < bounds.size(); ++i)
    if (bounds[i] >= bounds[i + 1]) throw Error("pack_row_ranges: the row bounds are not ascending");
  std::vector<PackedRef> refs(bounds.size() - 1);
  if (p.precision() == Precision::F32 || p.collecting()) return refs;
  auto group = std::make_shared<PackedGroup>(w, bounds, p.precision(), p.release_hook());
  if (!p.packing_deferred()) group->get(0);  // packs every range now
  for (size_t i = 0; i < refs.size(); ++i) {
    refs[i].group_ = group;
    refs[i].index_ = i;
  }
  return refs;
}

}  // namespace sam3::nn
