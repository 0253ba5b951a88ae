// sam3.cpp — `sam3 batch`'s reading thread (batch_reader.h).
#include "batch_reader.h"

#include <utility>

namespace sam3::cli {

BatchReader::BatchReader(std::vector<size_t> todo, std::function<BatchItem(size_t)> load, size_t depth)
    : todo_(std::move(todo)), load_(std::move(load)), depth_(depth < 1 ? 1 : depth), thread_([this] { run(); }) {}

BatchReader::~BatchReader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void BatchReader::run() {
  for (size_t i : todo_) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || ready_.size() < depth_; });
      if (stop_) return;
    }
    BatchItem item = load_(i);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_.push_back(std::move(item));
    }
    cv_.notify_all();
  }
}

bool BatchReader::next(BatchItem& out) {
  std::unique_lock<std::mutex> lock(mu_);
  if (taken_ == todo_.size()) return false;
  cv_.wait(lock, [&] { return !ready_.empty(); });
  out = std::move(ready_.front());
  ready_.pop_front();
  ++taken_;
  lock.unlock();
  cv_.notify_all();
  return true;
}

}  // namespace sam3::cli
