// sam3.cpp — the inference worker: a bounded FIFO of tasks and the one thread that runs them.
#include "worker.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>

namespace sam3::server {

Worker::Worker(std::shared_ptr<const Model> model, int n_threads, size_t capacity, std::string hold_file)
    : model_(std::move(model)),
      n_threads_(n_threads),
      capacity_(capacity),
      hold_file_(std::move(hold_file)),
      thread_([this] { run(); }) {}

Worker::~Worker() { stop(); }

bool Worker::try_submit(Task task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= capacity_) return false;
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

size_t Worker::queue_length() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

bool Worker::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_task_;
}

void Worker::stop() {
  std::deque<Task> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // `dropped` is destroyed here, outside the lock: packaged tasks never run report broken promises to their waiters.
}

void Worker::run() {
  WorkerContext ctx{model_, n_threads_};
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      while (!stopping_ && !hold_file_.empty() && access(hold_file_.c_str(), F_OK) == 0)
        cv_.wait_for(lock, std::chrono::milliseconds(5));  // held by a test (see the constructor)
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
      running_task_ = true;
    }
    try {
      task(ctx);  // tasks report their own errors (futures, session state); this is the last line of defence
    } catch (const std::exception& e) {
      std::fprintf(stderr, "sam3 serve: worker task failed: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "sam3 serve: worker task failed\n");
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_task_ = false;
    }
  }
}

}  // namespace sam3::server
