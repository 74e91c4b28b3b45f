#include "recording_hdf5.h"

#include "cadereau/twin/recording.h"

#include <cstddef>
#include <mutex>

namespace cadereau::twin::h5 {

void quiet() {
  static std::once_flag once;
  std::call_once(once, [] {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

std::string last_message() {
  struct Walk {
    std::string outer;
    std::string inner;
  } walk;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned n, const H5E_error2_t* e, void* data) -> herr_t {
        auto* w = static_cast<Walk*>(data);
        const std::string desc = e->desc ? e->desc : "";
        if (n == 0) w->outer = desc;
        w->inner = desc;
        return 0;
      },
      &walk);
  H5Eclear2(H5E_DEFAULT);
  if (walk.outer.empty()) return "HDF5 gave no reason";
  if (walk.inner.empty() || walk.inner == walk.outer) return walk.outer;
  return walk.outer + " (" + walk.inner + ")";
}

void fail_h5(const std::string& where, const std::string& what) { fail(where, "{}: {}", what, last_message()); }

Id checked(hid_t id, Id::Closer closer, const std::string& where, const std::string& what) {
  if (id < 0) fail_h5(where, what);
  return Id(id, closer);
}

std::vector<hsize_t> extent(hid_t dataset, const std::string& where) {
  Id space = checked(H5Dget_space(dataset), H5Sclose, where, "cannot read a dataset's extent");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail_h5(where, "cannot read a dataset's rank");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
    fail_h5(where, "cannot read a dataset's dimensions");
  return dims;
}

void read_rows(hid_t dataset, hid_t mem_type, hsize_t first, hsize_t count, void* buffer, const std::string& where) {
  if (count == 0) return;
  Id file_space = checked(H5Dget_space(dataset), H5Sclose, where, "cannot read a dataset's extent");
  const int rank = H5Sget_simple_extent_ndims(file_space.get());
  if (rank < 1) fail(where, "a dataset has rank {}; expected at least 1", rank);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(file_space.get(), dims.data(), nullptr);
  if (first + count > dims[0])
    fail(where, "rows {}..{} are past the end of a dataset of {} rows", first, first + count, dims[0]);
  std::vector<hsize_t> start(dims.size(), 0), counts = dims;
  start[0] = first;
  counts[0] = count;
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, counts.data(), nullptr), where,
        "cannot select rows");
  Id mem_space = checked(H5Screate_simple(rank, counts.data(), nullptr), H5Sclose, where, "cannot make a dataspace");
  check(H5Dread(dataset, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, buffer), where,
        "cannot read (truncated or corrupt file?)");
}

Id string_type(std::size_t n) {
  Id t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), n < 1 ? 1 : n);
  H5Tset_strpad(t.get(), H5T_STR_NULLPAD);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

Id text_type() {
  Id t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

Id source_type() { return string_type(kSourceBytes); }

Id v1_source_member_type() {
  Id source = string_type(kSourceBytes);
  Id t(H5Tcreate(H5T_COMPOUND, kSourceBytes), H5Tclose);
  H5Tinsert(t.get(), "source", 0, source.get());
  return t;
}

Id event_row_type() {
  Id kind(H5Tenum_create(H5T_NATIVE_UINT8), H5Tclose);
  for (int k = 0; k < kEventKindCount; ++k) {
    const auto value = static_cast<std::uint8_t>(k);
    H5Tenum_insert(kind.get(), to_string(static_cast<EventKind>(k)), &value);
  }
  const hsize_t hash_len = 32;
  Id hash(H5Tarray_create2(H5T_NATIVE_UINT8, 1, &hash_len), H5Tclose);
  Id t(H5Tcreate(H5T_COMPOUND, sizeof(EventRow)), H5Tclose);
  H5Tinsert(t.get(), "seq", offsetof(EventRow, seq), H5T_NATIVE_UINT64);
  H5Tinsert(t.get(), "sim_s", offsetof(EventRow, sim_s), H5T_NATIVE_DOUBLE);
  H5Tinsert(t.get(), "wall_s", offsetof(EventRow, wall_s), H5T_NATIVE_DOUBLE);
  H5Tinsert(t.get(), "kind", offsetof(EventRow, kind), kind.get());
  H5Tinsert(t.get(), "cause", offsetof(EventRow, cause), H5T_NATIVE_UINT64);
  H5Tinsert(t.get(), "payload_offset", offsetof(EventRow, payload_offset), H5T_NATIVE_UINT64);
  H5Tinsert(t.get(), "payload_size", offsetof(EventRow, payload_size), H5T_NATIVE_UINT32);
  H5Tinsert(t.get(), "prev_hash", offsetof(EventRow, prev_hash), hash.get());
  H5Tinsert(t.get(), "hash", offsetof(EventRow, hash), hash.get());
  return t;
}

Id series_row_type() {
  Id t(H5Tcreate(H5T_COMPOUND, sizeof(SeriesRow)), H5Tclose);
  H5Tinsert(t.get(), "time_s", offsetof(SeriesRow, time_s), H5T_NATIVE_DOUBLE);
  H5Tinsert(t.get(), "value", offsetof(SeriesRow, value), H5T_NATIVE_DOUBLE);
  return t;
}

namespace {

void write_attribute(hid_t object, const char* name, hid_t type, hid_t space, const void* data,
                     const std::string& where) {
  Id a = checked(H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose, where,
                 std::string("cannot create attribute ") + name);
  check(H5Awrite(a.get(), type, data), where, std::string("cannot write attribute ") + name);
}

}  // namespace

void write_string_attribute(hid_t object, const char* name, const std::string& value, const std::string& where) {
  Id type = text_type();
  Id space(H5Screate(H5S_SCALAR), H5Sclose);
  const char* text = value.c_str();
  write_attribute(object, name, type.get(), space.get(), &text, where);
}

void write_double_attribute(hid_t object, const char* name, double value, const std::string& where) {
  Id space(H5Screate(H5S_SCALAR), H5Sclose);
  write_attribute(object, name, H5T_NATIVE_DOUBLE, space.get(), &value, where);
}

void write_int_attribute(hid_t object, const char* name, long long value, const std::string& where) {
  Id space(H5Screate(H5S_SCALAR), H5Sclose);
  write_attribute(object, name, H5T_NATIVE_LLONG, space.get(), &value, where);
}

void write_doubles_attribute(hid_t object, const char* name, const std::vector<double>& values,
                             const std::string& where) {
  const hsize_t n = values.size();
  Id space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  write_attribute(object, name, H5T_NATIVE_DOUBLE, space.get(), values.data(), where);
}

bool has_attribute(hid_t object, const char* name) { return H5Aexists(object, name) > 0; }

bool is_numeric_attribute(hid_t object, const char* name) {
  const hid_t a = H5Aopen(object, name, H5P_DEFAULT);
  if (a < 0) {
    last_message();
    return false;
  }
  Id attribute(a, H5Aclose);
  const hid_t t = H5Aget_type(a);
  if (t < 0) {
    last_message();
    return false;
  }
  Id type(t, H5Tclose);
  const H5T_class_t c = H5Tget_class(t);
  return c == H5T_INTEGER || c == H5T_FLOAT;
}

std::string read_string_attribute(hid_t object, const char* name, const std::string& where) {
  Id a = checked(H5Aopen(object, name, H5P_DEFAULT), H5Aclose, where, std::string("no attribute ") + name);
  Id type = checked(H5Aget_type(a.get()), H5Tclose, where, std::string("cannot read attribute ") + name);
  if (H5Tget_class(type.get()) != H5T_STRING) fail(where, "attribute {} is not a string", name);
  if (H5Tis_variable_str(type.get()) > 0) {
    // As this version writes them, and h5py by default.
    char* text = nullptr;
    Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    check(H5Aread(a.get(), mem.get(), &text), where, std::string("cannot read attribute ") + name);
    std::string s = text ? text : "";
    H5free_memory(text);
    return s;
  }
  // Fixed-length: as format version 1 wrote them.
  const std::size_t size = H5Tget_size(type.get());
  std::string s(size, '\0');
  Id mem = string_type(size);
  H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
  check(H5Aread(a.get(), mem.get(), s.data()), where, std::string("cannot read attribute ") + name);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

long long read_int_attribute(hid_t object, const char* name, const std::string& where) {
  Id a = checked(H5Aopen(object, name, H5P_DEFAULT), H5Aclose, where, std::string("no attribute ") + name);
  long long v = 0;
  check(H5Aread(a.get(), H5T_NATIVE_LLONG, &v), where, std::string("cannot read attribute ") + name);
  return v;
}

double read_double_attribute(hid_t object, const char* name, const std::string& where) {
  Id a = checked(H5Aopen(object, name, H5P_DEFAULT), H5Aclose, where, std::string("no attribute ") + name);
  double v = 0.0;
  check(H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v), where, std::string("cannot read attribute ") + name);
  return v;
}

std::vector<double> read_doubles_attribute(hid_t object, const char* name, const std::string& where) {
  Id a = checked(H5Aopen(object, name, H5P_DEFAULT), H5Aclose, where, std::string("no attribute ") + name);
  Id space = checked(H5Aget_space(a.get()), H5Sclose, where, std::string("cannot read attribute ") + name);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0 || n > 1 << 20) fail(where, "attribute {} has an implausible size", name);
  std::vector<double> v(static_cast<std::size_t>(n));
  check(H5Aread(a.get(), H5T_NATIVE_DOUBLE, v.data()), where, std::string("cannot read attribute ") + name);
  return v;
}

}  // namespace cadereau::twin::h5
