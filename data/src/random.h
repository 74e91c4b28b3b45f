#pragma once
// Deterministic randomness for the demo territory. std:: distributions are
// implementation-defined (libstdc++ and libc++ draw differently), so the
// generator uses its own: splitmix64 for hashing and seeding, xorshift64* for
// streams. The same seed gives the same territory on every platform.

#include <cstdint>

namespace cadereau::data::detail {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A hash of a seed and up to three integer keys (lattice coordinates, ids...).
inline std::uint64_t hash_keys(std::uint64_t seed, std::int64_t a, std::int64_t b = 0, std::int64_t c = 0) {
  std::uint64_t h = splitmix64(seed);
  h = splitmix64(h ^ static_cast<std::uint64_t>(a));
  h = splitmix64(h ^ (static_cast<std::uint64_t>(b) * 0x9e3779b97f4a7c15ULL));
  h = splitmix64(h ^ (static_cast<std::uint64_t>(c) * 0xc2b2ae3d27d4eb4fULL));
  return h;
}

// Uniform in [0, 1) from the top 53 bits.
inline double unit_interval(std::uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }

// Uniform in [-1, 1).
inline double signed_unit(std::uint64_t h) { return 2.0 * unit_interval(h) - 1.0; }

// xorshift64*: a small, fast stream for sequences of draws.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(splitmix64(seed) | 1ULL) {}
  std::uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545f4914f6cdd1dULL;
  }
  double uniform() { return unit_interval(next()); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // An integer in [0, n).
  int below(int n) { return n <= 0 ? 0 : static_cast<int>(uniform() * n); }
  bool chance(double p) { return uniform() < p; }

 private:
  std::uint64_t state_;
};

}  // namespace cadereau::data::detail
