#pragma once
// Shared by the tests of the server's jobs (green-wave plans, 3D views).

#include "cadereau/twin/error.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace cadereau::testing {

// The category of the cadereau::Error that `f` throws; internal when none.
inline ErrorCategory category_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.category();
  }
  return ErrorCategory::internal;
}

// `get()` every 50 ms until its "state" is no longer "running"; a failure
// naming `what` after 10 s.
inline nlohmann::json until_ended(const std::function<nlohmann::json()>& get, const std::string& what) {
  for (int k = 0; k < 200; ++k) {
    auto j = get();
    if (j["state"] != "running") return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL(what << " still running after 10 s");
  return {};
}

}  // namespace cadereau::testing
