#pragma once
// Helpers of the security-core tests.

#include "cadereau/twin/error.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <string>

namespace cadereau::testing {

// The category of the cadereau::Error that f throws; fails the test if it
// throws none.
template <typename F>
ErrorCategory error_category(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.category();
  }
  FAIL("no cadereau::Error was thrown");
  return ErrorCategory::internal;
}

// The message of the cadereau::Error that f throws.
template <typename F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("no cadereau::Error was thrown");
  return {};
}

// The permission bits of a file (0600, ...).
inline unsigned file_mode(const std::filesystem::path& file) {
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace cadereau::testing
