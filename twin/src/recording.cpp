// The recorder: buffers events and samples, writes frames and keyframes as
// they come, and flushes the file on a wall-clock and sim-clock budget. The
// file is in SWMR mode from the moment the constructor returns, so every
// flush leaves a file that a reader (or the reader after a crash) opens.

#include "cadereau/twin/recording.h"

#include "recording_hdf5.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>
#include <map>
#include <set>

#ifndef CADEREAU_VERSION
#define CADEREAU_VERSION "unknown"
#endif

namespace cadereau::twin {

namespace {

constexpr const char* kKindNames[kEventKindCount] = {"observation", "inject", "operator_action", "simulation_event",
                                                     "impact",      "alert",  "audit"};

void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_f64(std::vector<std::uint8_t>& out, double v) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  put_u64(out, bits);
}
void put_text(std::vector<std::uint8_t>& out, const std::string& s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

double unix_now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string iso_utc(double unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void check_name(const std::string& name, const std::string& what, const std::string& where) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    fail(where, "{} name '{}' is empty or holds a '/'", what, name);
}

}  // namespace

const char* to_string(EventKind kind) {
  const auto i = static_cast<int>(kind);
  return i >= 0 && i < kEventKindCount ? kKindNames[i] : "unknown";
}

EventKind parse_event_kind(const std::string& name) {
  for (int i = 0; i < kEventKindCount; ++i)
    if (name == kKindNames[i]) return static_cast<EventKind>(i);
  fail("event kind", "'{}' is not one of observation, inject, operator_action, simulation_event, impact, alert, audit",
       name);
}

// The canonical bytes go into a reused buffer: the recorder hashes every
// event, and an allocation per event would cost more than the hash.
static Sha256 event_hash_into(std::vector<std::uint8_t>& buf, const Sha256& prev_hash, const Event& e) {
  buf.clear();
  buf.insert(buf.end(), prev_hash.begin(), prev_hash.end());
  put_u64(buf, e.seq);
  put_f64(buf, e.sim_s);
  put_f64(buf, e.wall_s);
  buf.push_back(static_cast<std::uint8_t>(e.kind));
  put_u64(buf, e.cause_seq);
  put_text(buf, e.source);
  put_text(buf, e.payload);
  return sha256(buf);
}

Sha256 event_hash(const Sha256& prev_hash, const Event& event) {
  std::vector<std::uint8_t> buf;
  return event_hash_into(buf, prev_hash, event);
}

namespace {

using h5::Id;

// A chunked dataset that grows along its first axis.
struct Appendable {
  Id dataset;
  std::vector<hsize_t> row_dims;  // dimensions after the first
  hsize_t rows = 0;

  void append(hid_t mem_type, const void* data, hsize_t n, const std::string& where) {
    if (n == 0) return;
    std::vector<hsize_t> dims{rows + n};
    dims.insert(dims.end(), row_dims.begin(), row_dims.end());
    h5::check(H5Dset_extent(dataset.get(), dims.data()), where, "cannot extend a dataset");
    Id file_space = h5::checked(H5Dget_space(dataset.get()), H5Sclose, where, "cannot get a dataspace");
    std::vector<hsize_t> start(dims.size(), 0), count = dims;
    start[0] = rows;
    count[0] = n;
    h5::check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
              where, "cannot select rows");
    Id mem_space = h5::checked(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose,
                               where, "cannot make a dataspace");
    h5::check(H5Dwrite(dataset.get(), mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, data), where,
              "cannot write");
    rows += n;
  }
};

// Frames and keyframes, written whole once, carry a Fletcher-32 checksum per
// chunk: a damaged chunk then fails to read (and `replay --verify` says
// which) rather than decompressing into wrong water. Events need none (their
// hash chain covers them), and are rewritten in place at every flush.
enum class Checksum { none, fletcher32 };

Appendable create_appendable(hid_t parent, const std::string& name, hid_t type, std::vector<hsize_t> row_dims,
                             std::vector<hsize_t> chunk, int gzip_level, const std::string& where,
                             Checksum checksum = Checksum::none) {
  std::vector<hsize_t> dims{0}, max_dims{H5S_UNLIMITED};
  dims.insert(dims.end(), row_dims.begin(), row_dims.end());
  max_dims.insert(max_dims.end(), row_dims.begin(), row_dims.end());
  Id space = h5::checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data()), H5Sclose,
                         where, "cannot make a dataspace for " + name);
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  h5::check(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), where, "cannot chunk " + name);
  if (gzip_level > 0) {
    H5Pset_shuffle(dcpl.get());
    H5Pset_deflate(dcpl.get(), static_cast<unsigned>(gzip_level));
  }
  if (checksum == Checksum::fletcher32)
    h5::check(H5Pset_fletcher32(dcpl.get()), where, "cannot add a checksum to " + name);
  Appendable a;
  a.dataset = h5::checked(H5Dcreate2(parent, name.c_str(), type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                          H5Dclose, where, "cannot create dataset " + name);
  a.row_dims = std::move(row_dims);
  return a;
}

Id create_group(hid_t parent, const std::string& name, const std::string& where) {
  return h5::checked(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, where,
                     "cannot create group " + name);
}

}  // namespace

struct Recorder::Impl {
  std::filesystem::path path;
  std::string where;
  RecordingLayout layout;
  RecorderOptions options;
  Id file;
  Id event_type, series_type, source_type;
  Appendable index, source, payload;
  Appendable keyframe_time, keyframe_seq;
  struct KeyframeSlot {
    KeyframeFieldLayout layout;
    Appendable values;  // float64_array: [k][n]; blob: the bytes
    Appendable extent;  // blob: [k][2] (offset, size)
  };
  std::vector<KeyframeSlot> keyframe_slots;
  struct FrameSlot {
    FrameLayout layout;
    Appendable values, time_s;
  };
  std::map<std::string, FrameSlot> frames;
  struct EdgeSlot {
    std::size_t edges = 0;
    Appendable values, time_s;
  };
  std::map<std::string, EdgeSlot> edge_channels;
  struct SeriesSlot {
    Appendable rows;
    std::vector<h5::SeriesRow> pending;
  };
  std::map<std::string, SeriesSlot> series;

  std::vector<h5::EventRow> pending_rows;
  std::vector<char> pending_sources;  // kSourceBytes per pending row
  std::string pending_payload;
  std::uint64_t payload_bytes = 0;  // including pending
  std::uint64_t last_seq = 0;
  std::uint64_t flushed_seq = 0;
  Sha256 last_hash{};
  double last_sim_s = -std::numeric_limits<double>::infinity();
  double last_flush_sim_s = std::numeric_limits<double>::quiet_NaN();
  std::chrono::steady_clock::time_point last_flush_wall = std::chrono::steady_clock::now();
  std::vector<std::uint8_t> hash_buffer;
  Event scratch;
  bool closed = false;

  void write_pending() {
    if (!pending_rows.empty()) {
      // Payload bytes and sources first: an index row never points past
      // what is on disk (a reader takes a row without them as torn).
      payload.append(H5T_NATIVE_UINT8, pending_payload.data(), pending_payload.size(), where);
      source.append(source_type.get(), pending_sources.data(), pending_rows.size(), where);
      index.append(event_type.get(), pending_rows.data(), pending_rows.size(), where);
      pending_rows.clear();
      pending_sources.clear();
      pending_payload.clear();
    }
    for (auto& [name, s] : series) {
      s.rows.append(series_type.get(), s.pending.data(), s.pending.size(), where);
      s.pending.clear();
    }
  }

  void flush() {
    if (closed) return;
    write_pending();
    h5::check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), where, "cannot flush");
    flushed_seq = last_seq;
    last_flush_wall = std::chrono::steady_clock::now();
    last_flush_sim_s = last_sim_s;
  }

  void maybe_flush(double sim_s) {
    if (std::isnan(last_flush_sim_s)) last_flush_sim_s = sim_s;
    if (options.flush_every_sim_s > 0.0 && sim_s - last_flush_sim_s >= options.flush_every_sim_s) {
      flush();
      return;
    }
    if (options.flush_every_wall_s > 0.0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - last_flush_wall).count() >=
            options.flush_every_wall_s) {
      flush();
      return;
    }
    if (pending_rows.size() >= 16384) write_pending();  // bounded memory between flushes
  }

  void require_open() const {
    if (closed) fail(where, "the recording is closed");
  }
};

Recorder::Recorder(const std::filesystem::path& path, RecordingLayout layout, RecorderOptions options)
    : impl_(std::make_unique<Impl>()) {
  h5::quiet();
  Impl& m = *impl_;
  m.path = path;
  m.where = path.string();
  m.options = options;
  const std::string& where = m.where;
  if (!(options.gzip_level >= 1 && options.gzip_level <= 9)) fail(where, "gzip level {} is not in 1..9", options.gzip_level);
  const int events_gzip = options.compress_events ? options.gzip_level : 0;
  std::set<std::string> names;
  for (const auto& f : layout.frames) {
    check_name(f.name, "frame channel", where);
    if (!names.insert("frame:" + f.name).second) fail(where, "frame channel '{}' is declared twice", f.name);
    if (f.grid.cols <= 0 || f.grid.rows <= 0) fail(where, "frame channel '{}' has an empty grid", f.name);
  }
  for (const auto& e : layout.edge_channels) {
    check_name(e.name, "edge channel", where);
    if (!names.insert("edges:" + e.name).second) fail(where, "edge channel '{}' is declared twice", e.name);
    if (e.edge_ids.empty()) fail(where, "edge channel '{}' has no edges", e.name);
    for (const auto& id : e.edge_ids)
      if (id.empty() || id.find('\n') != std::string::npos)
        fail(where, "edge channel '{}' has an edge id that is empty or holds a newline", e.name);
  }
  for (const auto& s : layout.series) {
    check_name(s, "time series", where);
    if (!names.insert("series:" + s).second) fail(where, "time series '{}' is declared twice", s);
  }
  for (const auto& [name, info] : layout.series_info)
    if (!names.count("series:" + name)) fail(where, "time series '{}' is described but not declared", name);
  for (const auto& k : layout.keyframe_fields) {
    check_name(k.name, "keyframe field", where);
    if (k.name == "time_s" || k.name == "event_seq") fail(where, "keyframe field name '{}' is reserved", k.name);
    if (!names.insert("key:" + k.name).second) fail(where, "keyframe field '{}' is declared twice", k.name);
    if (k.type == KeyframeFieldLayout::Type::float64_array && k.size == 0)
      fail(where, "keyframe field '{}' has no elements", k.name);
  }
  if (std::filesystem::is_directory(path)) fail(where, "is a directory");

  RecordingMeta& meta = layout.meta;
  meta.created_wall_s = unix_now_s();
  if (meta.start_time_iso.empty()) meta.start_time_iso = iso_utc(meta.created_wall_s);
  if (meta.software_version.empty()) meta.software_version = std::string("cadereau ") + CADEREAU_VERSION;

  // SWMR needs the latest file format (v3 superblock, checksummed metadata).
  Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  h5::check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST), where, "cannot set the format");
  m.file = h5::checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose, where,
                       "cannot create the recording");
  const hid_t file = m.file.get();

  {
    Id g = create_group(file, "meta", where);
    h5::write_string_attribute(g.get(), "format", h5::kFormatName, where);
    h5::write_int_attribute(g.get(), "format_version", h5::kFormatVersion, where);
    h5::write_string_attribute(g.get(), "territory", meta.territory, where);
    h5::write_string_attribute(g.get(), "scenario", meta.scenario, where);
    h5::write_string_attribute(g.get(), "crs_wkt", meta.crs_wkt, where);
    h5::write_string_attribute(g.get(), "start_time_iso", meta.start_time_iso, where);
    h5::write_string_attribute(g.get(), "software_version", meta.software_version, where);
    h5::write_string_attribute(g.get(), "parent_recording", meta.parent_recording, where);
    if (meta.fork_sim_s) h5::write_double_attribute(g.get(), "fork_sim_s", *meta.fork_sim_s, where);
    h5::write_string_attribute(g.get(), "run_options_json", meta.run_options_json, where);
    h5::write_double_attribute(g.get(), "created_wall_s", meta.created_wall_s, where);
  }
  m.event_type = h5::event_row_type();
  m.series_type = h5::series_row_type();
  m.source_type = h5::source_type();
  {
    Id g = create_group(file, "events", where);
    m.index = create_appendable(g.get(), "index", m.event_type.get(), {}, {1024}, events_gzip, where);
    m.source = create_appendable(g.get(), "source", m.source_type.get(), {}, {1024}, events_gzip, where);
    m.payload = create_appendable(g.get(), "payload", H5T_NATIVE_UINT8, {}, {1 << 16}, events_gzip, where);
  }
  {
    Id g = create_group(file, "keyframes", where);
    m.keyframe_time = create_appendable(g.get(), "time_s", H5T_NATIVE_DOUBLE, {}, {256}, 0, where);
    m.keyframe_seq = create_appendable(g.get(), "event_seq", H5T_NATIVE_UINT64, {}, {256}, 0, where);
    for (const auto& k : layout.keyframe_fields) {
      Impl::KeyframeSlot slot;
      slot.layout = k;
      // Frames and keyframes always compress: they are most of the bytes.
      const int level = options.gzip_level;
      if (k.type == KeyframeFieldLayout::Type::float64_array) {
        const hsize_t n = k.size;
        slot.values = create_appendable(g.get(), k.name, H5T_NATIVE_DOUBLE, {n}, {1, std::min<hsize_t>(n, 1 << 17)},
                                        level, where, Checksum::fletcher32);
      } else {
        Id blob = create_group(g.get(), k.name, where);
        slot.values = create_appendable(blob.get(), "bytes", H5T_NATIVE_UINT8, {}, {1 << 20}, level, where,
                                        Checksum::fletcher32);
        slot.extent = create_appendable(blob.get(), "extent", H5T_NATIVE_UINT64, {2}, {256, 2}, 0, where);
      }
      m.keyframe_slots.push_back(std::move(slot));
    }
  }
  {
    Id g = create_group(file, "frames", where);
    for (const auto& f : layout.frames) {
      Id channel = create_group(g.get(), f.name, where);
      Impl::FrameSlot slot;
      slot.layout = f;
      const hsize_t rows = static_cast<hsize_t>(f.grid.rows), cols = static_cast<hsize_t>(f.grid.cols);
      // One chunk per frame up to 4 MB, tiles beyond: a frame is read whole.
      std::vector<hsize_t> chunk{1, rows, cols};
      if (rows * cols * 4 > (4u << 20)) chunk = {1, std::min<hsize_t>(rows, 512), std::min<hsize_t>(cols, 512)};
      slot.values = create_appendable(channel.get(), "values", H5T_NATIVE_FLOAT, {rows, cols}, chunk,
                                      options.gzip_level, where, Checksum::fletcher32);
      slot.time_s = create_appendable(channel.get(), "time_s", H5T_NATIVE_DOUBLE, {}, {256}, 0, where);
      const hid_t v = slot.values.dataset.get();
      h5::write_doubles_attribute(v, "geotransform",
                                  {f.grid.x_min_m, f.grid.cell_w_m, 0.0, f.grid.y_max_m, 0.0, -f.grid.cell_h_m}, where);
      h5::write_string_attribute(v, "crs_wkt", f.crs_wkt, where);
      h5::write_string_attribute(v, "units", f.units, where);
      h5::write_double_attribute(v, "nodata", f.nodata, where);
      h5::write_string_attribute(v, "description", f.description.empty() ? f.name : f.description, where);
      m.frames.emplace(f.name, std::move(slot));
    }
  }
  {
    Id g = create_group(file, "edges", where);
    for (const auto& e : layout.edge_channels) {
      Id channel = create_group(g.get(), e.name, where);
      Impl::EdgeSlot slot;
      slot.edges = e.edge_ids.size();
      const hsize_t n = slot.edges;
      slot.values = create_appendable(channel.get(), "values", H5T_NATIVE_FLOAT, {n}, {1, n},
                                      options.gzip_level, where, Checksum::fletcher32);
      slot.time_s = create_appendable(channel.get(), "time_s", H5T_NATIVE_DOUBLE, {}, {256}, 0, where);
      h5::write_string_attribute(slot.values.dataset.get(), "units", e.units, where);
      h5::write_string_attribute(slot.values.dataset.get(), "description", e.description.empty() ? e.name : e.description,
                                 where);
      std::string ids;
      for (const auto& id : e.edge_ids) ids += id + '\n';
      Appendable id_bytes = create_appendable(channel.get(), "edge_ids", H5T_NATIVE_UINT8, {}, {std::min<hsize_t>(ids.size(), 1 << 16)},
                                              options.gzip_level, where, Checksum::fletcher32);
      id_bytes.append(H5T_NATIVE_UINT8, ids.data(), ids.size(), where);
      m.edge_channels.emplace(e.name, std::move(slot));
    }
  }
  {
    Id g = create_group(file, "timeseries", where);
    for (const auto& s : layout.series) {
      Impl::SeriesSlot slot;
      slot.rows = create_appendable(g.get(), s, m.series_type.get(), {}, {512}, events_gzip, where);
      if (auto info = layout.series_info.find(s); info != layout.series_info.end()) {
        const hid_t d = slot.rows.dataset.get();
        if (!info->second.units.empty()) h5::write_string_attribute(d, "units", info->second.units, where);
        if (!info->second.description.empty())
          h5::write_string_attribute(d, "description", info->second.description, where);
        if (!info->second.datum.empty()) h5::write_string_attribute(d, "datum", info->second.datum, where);
      }
      m.series.emplace(s, std::move(slot));
    }
  }
  m.layout = std::move(layout);
  // From here on no object may be created: SWMR readers only see appends.
  h5::check(H5Fstart_swmr_write(file), where, "cannot start single-writer/multiple-reader mode");
}

Recorder::~Recorder() {
  try {
    close();
  } catch (...) {
  }
}

std::uint64_t Recorder::append(EventKind kind, double sim_s, const std::string& source, const std::string& payload,
                               std::uint64_t cause_seq, double wall_s) {
  Impl& m = *impl_;
  m.require_open();
  if (!std::isfinite(sim_s)) fail(m.where, "event at sim time {} s: not a finite time", sim_s);
  if (sim_s < m.last_sim_s)
    fail(m.where, "event at sim time {} s comes after one at {} s: the log never goes back", sim_s, m.last_sim_s);
  if (source.size() > h5::kSourceBytes)
    fail(m.where, "event source '{}' is longer than {} bytes", source, h5::kSourceBytes);
  if (cause_seq > m.last_seq) fail(m.where, "event cause {} does not exist yet (last is {})", cause_seq, m.last_seq);
  if (static_cast<int>(kind) >= kEventKindCount) fail(m.where, "unknown event kind");
  if (payload.size() > 0xffffffffu) fail(m.where, "event payload of {} bytes is too large", payload.size());

  Event& e = m.scratch;
  e.seq = m.last_seq + 1;
  e.sim_s = sim_s;
  e.wall_s = wall_s < 0.0 ? unix_now_s() : wall_s;
  e.kind = kind;
  e.cause_seq = cause_seq;
  e.source = source;
  e.payload = payload;
  const Sha256 hash = event_hash_into(m.hash_buffer, m.last_hash, e);

  h5::EventRow row{};
  row.seq = e.seq;
  row.sim_s = e.sim_s;
  row.wall_s = e.wall_s;
  row.kind = static_cast<std::uint8_t>(kind);
  row.cause = cause_seq;
  row.payload_offset = m.payload_bytes;
  row.payload_size = static_cast<std::uint32_t>(payload.size());
  std::memcpy(row.prev_hash, m.last_hash.data(), 32);
  std::memcpy(row.hash, hash.data(), 32);
  m.pending_rows.push_back(row);
  m.pending_sources.resize(m.pending_sources.size() + h5::kSourceBytes, '\0');
  std::memcpy(m.pending_sources.data() + m.pending_sources.size() - h5::kSourceBytes, source.data(), source.size());
  m.pending_payload += payload;
  m.payload_bytes += payload.size();
  m.last_seq = e.seq;
  m.last_hash = hash;
  m.last_sim_s = sim_s;
  m.maybe_flush(sim_s);
  return e.seq;
}

void Recorder::append_sample(const std::string& series, double time_s, double value) {
  Impl& m = *impl_;
  m.require_open();
  auto it = m.series.find(series);
  if (it == m.series.end()) fail(m.where, "time series '{}' was not declared in the layout", series);
  it->second.pending.push_back({time_s, value});
  if (it->second.pending.size() >= 4096) m.write_pending();
  m.maybe_flush(std::max(time_s, m.last_sim_s));
}

void Recorder::append_frame(const std::string& channel, double time_s, std::span<const float> values) {
  Impl& m = *impl_;
  m.require_open();
  auto it = m.frames.find(channel);
  if (it == m.frames.end()) fail(m.where, "frame channel '{}' was not declared in the layout", channel);
  auto& slot = it->second;
  if (values.size() != slot.layout.grid.cell_count())
    fail(m.where, "frame '{}' has {} values; its grid has {} cells", channel, values.size(),
         slot.layout.grid.cell_count());
  // Values before the time: a reader counts frames by the shorter of the two.
  slot.values.append(H5T_NATIVE_FLOAT, values.data(), 1, m.where);
  slot.time_s.append(H5T_NATIVE_DOUBLE, &time_s, 1, m.where);
  m.maybe_flush(std::max(time_s, m.last_sim_s));
}

void Recorder::append_edge_values(const std::string& channel, double time_s, std::span<const float> values) {
  Impl& m = *impl_;
  m.require_open();
  auto it = m.edge_channels.find(channel);
  if (it == m.edge_channels.end()) fail(m.where, "edge channel '{}' was not declared in the layout", channel);
  auto& slot = it->second;
  if (values.size() != slot.edges)
    fail(m.where, "edge values '{}' has {} values; the channel has {} edges", channel, values.size(), slot.edges);
  // Values before the time, as for frames.
  slot.values.append(H5T_NATIVE_FLOAT, values.data(), 1, m.where);
  slot.time_s.append(H5T_NATIVE_DOUBLE, &time_s, 1, m.where);
  m.maybe_flush(std::max(time_s, m.last_sim_s));
}

void Recorder::append_keyframe(double sim_s, const std::vector<KeyframeField>& fields) {
  Impl& m = *impl_;
  m.require_open();
  for (const auto& f : fields) {
    const bool known = std::any_of(m.keyframe_slots.begin(), m.keyframe_slots.end(),
                                   [&](const Impl::KeyframeSlot& s) { return s.layout.name == f.name; });
    if (!known) fail(m.where, "keyframe field '{}' was not declared in the layout", f.name);
  }
  // Check everything before writing anything, so that a bad call leaves no partial keyframe.
  std::vector<const KeyframeField*> matched;
  for (const auto& slot : m.keyframe_slots) {
    auto it = std::find_if(fields.begin(), fields.end(), [&](const KeyframeField& f) { return f.name == slot.layout.name; });
    if (it == fields.end()) fail(m.where, "keyframe at {} s lacks field '{}'", sim_s, slot.layout.name);
    if (slot.layout.type == KeyframeFieldLayout::Type::float64_array && it->values.size() != slot.layout.size)
      fail(m.where, "keyframe field '{}' has {} values; the layout says {}", slot.layout.name, it->values.size(),
           slot.layout.size);
    matched.push_back(&*it);
  }
  m.write_pending();  // events before the keyframe are on disk with it
  for (std::size_t i = 0; i < m.keyframe_slots.size(); ++i) {
    auto& slot = m.keyframe_slots[i];
    const KeyframeField& f = *matched[i];
    if (slot.layout.type == KeyframeFieldLayout::Type::float64_array) {
      slot.values.append(H5T_NATIVE_DOUBLE, f.values.data(), 1, m.where);
    } else {
      const std::uint64_t extent[2] = {slot.values.rows, f.blob.size()};
      slot.values.append(H5T_NATIVE_UINT8, f.blob.data(), f.blob.size(), m.where);
      slot.extent.append(H5T_NATIVE_UINT64, extent, 1, m.where);
    }
  }
  m.keyframe_seq.append(H5T_NATIVE_UINT64, &m.last_seq, 1, m.where);
  m.keyframe_time.append(H5T_NATIVE_DOUBLE, &sim_s, 1, m.where);
  m.maybe_flush(std::max(sim_s, m.last_sim_s));
}

void Recorder::flush() {
  impl_->require_open();
  impl_->flush();
}

void Recorder::close() {
  Impl& m = *impl_;
  if (m.closed) return;
  m.flush();
  m.closed = true;
  m.keyframe_slots.clear();
  m.frames.clear();
  m.edge_channels.clear();
  m.series.clear();
  m.index.dataset.reset();
  m.source.dataset.reset();
  m.payload.dataset.reset();
  m.keyframe_time.dataset.reset();
  m.keyframe_seq.dataset.reset();
  if (m.file.close() < 0) h5::fail_h5(m.where, "cannot close the recording");
}

std::uint64_t Recorder::last_seq() const { return impl_->last_seq; }
std::uint64_t Recorder::flushed_seq() const { return impl_->flushed_seq; }
const Sha256& Recorder::last_hash() const { return impl_->last_hash; }
const std::filesystem::path& Recorder::path() const { return impl_->path; }

}  // namespace cadereau::twin
