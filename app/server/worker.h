// sam3.cpp — the inference worker (llama.cpp's server design): ONE thread owns the model and runs every task that
// touches it (encode, segment), in arrival order, from a bounded queue. HTTP threads only parse, enqueue, wait and
// format; a full queue is refused at once (-> 503) rather than queued without bound.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "sam3/sam3.h"

namespace sam3::server {

// What a task gets: the model and the thread count to run it with (only the worker thread ever sees these).
struct WorkerContext {
  std::shared_ptr<const Model> model;
  int n_threads;
};

class Worker {
 public:
  using Task = std::function<void(WorkerContext&)>;

  // Starts the thread. `capacity`: tasks that may wait (the running one not counted). `hold_file` (tests only,
  // `sam3 serve --test-hold-file`): while a file of that name exists, no task starts (they wait in the queue), so a
  // test can observe the 'still encoding' state deterministically; empty: never held.
  Worker(std::shared_ptr<const Model> model, int n_threads, size_t capacity, std::string hold_file = {});
  ~Worker();  // stop(): the waiting tasks are dropped (their futures report broken promises), the running one ends
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Enqueues a task; false (and nothing queued) when the queue is full or the worker is stopping.
  bool try_submit(Task task);

  // Enqueues f and returns the future of its result (exceptions travel through it); nullopt when full.
  template <class F>
  auto try_call(F&& f) -> std::optional<std::future<decltype(f(std::declval<WorkerContext&>()))>> {
    using R = decltype(f(std::declval<WorkerContext&>()));
    auto task = std::make_shared<std::packaged_task<R(WorkerContext&)>>(std::forward<F>(f));
    std::future<R> fut = task->get_future();
    if (!try_submit([task](WorkerContext& ctx) { (*task)(ctx); })) return std::nullopt;
    return fut;
  }

  size_t queue_length() const;  // tasks waiting (the running one not counted)
  size_t capacity() const { return capacity_; }
  bool busy() const;            // a task is running
  int n_threads() const { return n_threads_; }
  void stop();

 private:
  void run();

  std::shared_ptr<const Model> model_;
  const int n_threads_;
  const size_t capacity_;
  const std::string hold_file_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  bool running_task_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sam3::server
