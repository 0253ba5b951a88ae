// sam3.cpp — `sam3 batch`'s reading thread: decodes the next images (or loads their saved embeddings) while the
// caller runs the model on the current one. A bounded queue keeps at most `depth` items ready, so memory stays at a
// few decoded images however long the run.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sam3/sam3.h"

namespace sam3::cli {

struct BatchItem {
  size_t index = 0;          // into the run's image files
  RgbImage image;            // decoded pixels (empty when `embedding` was loaded and no overlay needs them)
  ImageEmbedding embedding;  // loaded from --embeddings-dir (empty otherwise)
  std::string error;         // non-empty: this image could not be read
};

class BatchReader {
 public:
  // Starts one thread that calls load(i) for each i of `todo`, in order. load() must not throw (errors go in
  // BatchItem::error).
  BatchReader(std::vector<size_t> todo, std::function<BatchItem(size_t)> load, size_t depth);
  ~BatchReader();  // stops the thread (after the item it is loading) and joins it
  BatchReader(const BatchReader&) = delete;
  BatchReader& operator=(const BatchReader&) = delete;

  // The next item, in `todo` order, waiting for it if needed; false when all were taken.
  bool next(BatchItem& out);

 private:
  void run();

  std::vector<size_t> todo_;
  std::function<BatchItem(size_t)> load_;
  size_t depth_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<BatchItem> ready_;
  size_t taken_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sam3::cli
