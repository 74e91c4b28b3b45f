#pragma once
// A paced replay: sim time held to at most `speed` times the wall clock,
// counted from when the Pacer is made (speed 0: as fast as possible).

#include <chrono>
#include <thread>

namespace cadereau::server {

class Pacer {
 public:
  Pacer(double speed, double from_s) : speed_(speed), from_s_(from_s) {}
  // Sleeps until the wall clock has caught up with sim time t_s.
  void wait_for(double t_s) const {
    if (speed_ <= 0.0) return;
    const auto due = start_ + std::chrono::duration<double>((t_s - from_s_) / speed_);
    std::this_thread::sleep_until(std::chrono::time_point_cast<std::chrono::steady_clock::duration>(due));
  }

 private:
  double speed_;
  double from_s_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace cadereau::server
