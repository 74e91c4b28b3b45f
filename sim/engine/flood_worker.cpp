#include "flood_worker.h"

#include "cadereau/sim/flood/flood_run.h"

#include <chrono>
#include <utility>

namespace cadereau::sim::engine {

FloodWorker::FloodWorker(flood::FloodModel& model) : model_(model), thread_([this] { loop(); }) {}

FloodWorker::~FloodWorker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void FloodWorker::start(double t_s) {
  {
    std::lock_guard lock(mutex_);
    target_s_ = t_s;
    has_work_ = true;
    done_ = false;
    error_ = nullptr;
  }
  changed_.notify_all();
}

double FloodWorker::wait() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return done_ || !has_work_; });
  has_work_ = false;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  return wall_s_;
}

void FloodWorker::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] { return stopping_ || (has_work_ && !done_); });
    if (stopping_) return;
    const double target = target_s_;
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    std::exception_ptr error;
    try {
      const double t0 = model_.time_s();
      model_.advance_to(target);
      flood::check_progress(model_, t0, target, "flood model");
    } catch (...) {
      error = std::current_exception();
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    lock.lock();
    wall_s_ = wall;
    error_ = error;
    done_ = true;
    changed_.notify_all();
  }
}

}  // namespace cadereau::sim::engine
