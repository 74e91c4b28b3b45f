#pragma once
// Thin RAII over the HDF5 C API for the recorder and its reader. Private to
// twin: no HDF5 type crosses the public headers.

#include "cadereau/twin/error.h"

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cadereau::twin::h5 {

// Silences HDF5's own error printing (once per process): failures come back
// as cadereau::Error carrying HDF5's message instead of a stack on stderr.
void quiet();

// The current HDF5 error stack in one line (outermost and innermost causes); clears it.
std::string last_message();

[[noreturn]] void fail_h5(const std::string& where, const std::string& what);

class Id {
 public:
  using Closer = herr_t (*)(hid_t);
  Id() = default;
  Id(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Id() { reset(); }
  Id(Id&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), closer_(o.closer_) {}
  Id& operator=(Id&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      closer_ = o.closer_;
    }
    return *this;
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now and reports failure (the destructor cannot).
  herr_t close() {
    herr_t r = 0;
    if (id_ >= 0 && closer_) r = closer_(id_);
    id_ = H5I_INVALID_HID;
    return r;
  }
  void reset() {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = H5I_INVALID_HID;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// Wraps a freshly returned id; throws Error(where, what + HDF5's message) when it is invalid.
Id checked(hid_t id, Id::Closer closer, const std::string& where, const std::string& what);
inline void check(herr_t status, const std::string& where, const std::string& what) {
  if (status < 0) fail_h5(where, what);
}

// Dimensions of a dataset's current extent.
std::vector<hsize_t> extent(hid_t dataset, const std::string& where);

// Reads rows [first, first + count) along the first axis into buffer (which
// holds count * the size of one row in mem_type).
void read_rows(hid_t dataset, hid_t mem_type, hsize_t first, hsize_t count, void* buffer, const std::string& where);

// The on-disk format shared by the writer and the reader.
inline constexpr const char* kFormatName = "cadereau-recording";
// Version 2 moved the event source out of the index row into /events/source.
inline constexpr int kFormatVersion = 2;
inline constexpr std::size_t kSourceBytes = 64;

// One row of /events/index. Packed so that the memory and file layouts are
// the same and HDF5 copies rows without converting them.
#pragma pack(push, 1)
struct EventRow {
  std::uint64_t seq;
  double sim_s;
  double wall_s;
  std::uint8_t kind;
  std::uint64_t cause;
  std::uint64_t payload_offset;
  std::uint32_t payload_size;
  std::uint8_t prev_hash[32];
  std::uint8_t hash[32];
};
#pragma pack(pop)

struct SeriesRow {
  double time_s;
  double value;
};

// Compound types for the rows above (kind as an HDF5 enum with the kind names).
Id event_row_type();
Id series_row_type();
// One event's source: a fixed-length string of kSourceBytes.
Id source_type();
// The source member alone of a format-1 index row (read by member name).
Id v1_source_member_type();
// A fixed-length string type of n bytes (n >= 1), null-padded, UTF-8.
Id string_type(std::size_t n);
// A variable-length UTF-8 string type (for attributes: h5py reads them as str).
Id text_type();

void write_string_attribute(hid_t object, const char* name, const std::string& value, const std::string& where);
void write_double_attribute(hid_t object, const char* name, double value, const std::string& where);
void write_int_attribute(hid_t object, const char* name, long long value, const std::string& where);
void write_doubles_attribute(hid_t object, const char* name, const std::vector<double>& values, const std::string& where);
bool has_attribute(hid_t object, const char* name);
// Whether the attribute holds an integer or a floating-point number.
bool is_numeric_attribute(hid_t object, const char* name);
// Reads fixed-length and variable-length string attributes alike.
std::string read_string_attribute(hid_t object, const char* name, const std::string& where);
long long read_int_attribute(hid_t object, const char* name, const std::string& where);
double read_double_attribute(hid_t object, const char* name, const std::string& where);
std::vector<double> read_doubles_attribute(hid_t object, const char* name, const std::string& where);

}  // namespace cadereau::twin::h5
