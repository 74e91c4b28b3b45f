#pragma once
// The flood model's own long-lived thread. Each exchange step hands it a
// target time and goes on with SUMO on the calling thread; the flood solver
// keeps one thread, and with it one OpenMP team, for the whole run instead
// of a new thread and a new team per exchange.

#include "cadereau/sim/flood/flood_model.h"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

namespace cadereau::sim::engine {

class FloodWorker {
 public:
  explicit FloodWorker(flood::FloodModel& model);
  ~FloodWorker();  // stops the thread (after the step in hand, if any)
  FloodWorker(const FloodWorker&) = delete;
  FloodWorker& operator=(const FloodWorker&) = delete;

  // Starts advancing the model to t_s on the worker. One step at a time:
  // wait() for it before the next start() or before touching the model.
  void start(double t_s);
  // Waits for the step in hand; returns its wall time in seconds. Rethrows
  // what the model threw.
  double wait();

 private:
  void loop();

  flood::FloodModel& model_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool has_work_ = false;
  bool done_ = false;
  bool stopping_ = false;
  double target_s_ = 0.0;
  double wall_s_ = 0.0;
  std::exception_ptr error_;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace cadereau::sim::engine
