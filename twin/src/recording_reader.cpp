// The reader: opens a recording in SWMR read mode (so a live or crashed file
// opens too), trims a tail torn by a crash, streams the hash chain, and seeks
// keyframes and frames by time.

#include "cadereau/twin/recording.h"

#include "recording_check.h"
#include "recording_hdf5.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <map>
#include <optional>

namespace cadereau::twin {

namespace {

using h5::Id;

struct Listing {
  std::vector<std::string> names;
};

std::vector<std::string> list_group(hid_t file, const char* group, const std::string& where) {
  if (H5Lexists(file, group, H5P_DEFAULT) <= 0) return {};
  Id g = h5::checked(H5Gopen2(file, group, H5P_DEFAULT), H5Gclose, where, std::string("cannot open group ") + group);
  Listing listing;
  hsize_t idx = 0;
  const herr_t status = H5Literate(
      g.get(), H5_INDEX_NAME, H5_ITER_INC, &idx,
      [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
        static_cast<Listing*>(data)->names.emplace_back(name);
        return 0;
      },
      &listing);
  if (status < 0) h5::fail_h5(where, std::string("cannot list group ") + group);
  return listing.names;
}

Id open_dataset(hid_t parent, const std::string& name, const std::string& where) {
  return h5::checked(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), H5Dclose, where, "cannot open dataset " + name);
}

std::string optional_text(hid_t object, const char* name, const std::string& where) {
  return h5::has_attribute(object, name) ? h5::read_string_attribute(object, name, where) : std::string();
}

// "1988-10-03T07:00:00" (or with a Z) plus seconds, in the same form; nothing
// when the text is not such a time.
std::optional<std::string> iso_time_plus(const std::string& iso, double seconds) {
  std::tm tm{};
  char rest[8] = {};
  const int n = std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%7s", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                            &tm.tm_min, &tm.tm_sec, rest);
  if (n < 6 || !std::isfinite(seconds)) return std::nullopt;
  const std::string zone = n == 7 ? rest : "";
  if (!zone.empty() && zone != "Z") return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t t = timegm(&tm) + static_cast<std::time_t>(std::llround(seconds));
  std::tm out{};
  gmtime_r(&t, &out);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &out);
  return std::string(buf) + zone;
}

Sha256 to_sha(const std::uint8_t* bytes) {
  Sha256 s;
  std::memcpy(s.data(), bytes, 32);
  return s;
}

}  // namespace

const std::vector<double>& Keyframe::array(const std::string& name) const {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return arrays[i];
  fail("keyframe", "no array field '{}'", name);
}

const std::vector<std::uint8_t>& Keyframe::blob(const std::string& name) const {
  for (std::size_t i = 0; i < blob_names.size(); ++i)
    if (blob_names[i] == name) return blobs[i];
  fail("keyframe", "no blob field '{}'", name);
}

struct RecordingReader::Impl {
  std::filesystem::path path;
  std::string where;
  Id file;
  RecordingMeta meta;
  Id event_type, series_type, source_type;
  Id index, payload;
  Id source;               // /events/source; invalid in format 1, where the index row holds it
  std::uint64_t index_rows = 0, payload_bytes = 0, valid_events = 0;
  Id keyframe_time, keyframe_seq;
  struct KeyField {
    std::string name;
    bool blob = false;
    Id values, extent;
    std::size_t size = 0;
  };
  std::vector<KeyField> key_fields;
  std::size_t keyframes = 0;
  struct FrameChannel {
    Id values, time_s;
    GridSpec grid;
    std::string crs_wkt;
    double nodata = -9999.0;
    std::string units, description;
    std::size_t count = 0;
  };
  std::map<std::string, FrameChannel> frames;
  struct EdgeChannel {
    Id values, time_s;
    std::vector<std::string> edge_ids;
    std::string units, description;
    std::size_t count = 0;
  };
  std::map<std::string, EdgeChannel> edge_channels;
  struct Series {
    Id rows;
    SeriesInfo info;
  };
  std::map<std::string, Series> series;

  h5::EventRow row(std::uint64_t i) const {
    h5::EventRow r{};
    h5::read_rows(index.get(), event_type.get(), i, 1, &r, where);
    return r;
  }

  // Rows [first, first + count) with their payloads, validated against the heap.
  std::vector<Event> read_events(std::uint64_t first, std::uint64_t count, std::uint64_t rows_limit) const {
    if (first > rows_limit || count > rows_limit - first)
      fail(where, "events {}..{} are past the {} recorded", first, first + count, rows_limit);
    std::vector<h5::EventRow> rows(count);
    h5::read_rows(index.get(), event_type.get(), first, count, rows.data(), where);
    std::vector<char> sources(count * h5::kSourceBytes);
    h5::read_rows(source.valid() ? source.get() : index.get(), source_type.get(), first, count, sources.data(), where);
    std::uint64_t lo = std::numeric_limits<std::uint64_t>::max(), hi = 0;
    for (const auto& r : rows) {
      if (r.payload_offset > payload_bytes || r.payload_size > payload_bytes - r.payload_offset)
        fail(where, "event seq {} (row {}): payload {}+{} lies outside the {} bytes of /events/payload (corrupt file)",
             r.seq, first + (&r - rows.data()), r.payload_offset, r.payload_size, payload_bytes);
      lo = std::min<std::uint64_t>(lo, r.payload_offset);
      hi = std::max<std::uint64_t>(hi, r.payload_offset + r.payload_size);
    }
    std::string heap;
    if (!rows.empty() && hi > lo) {
      heap.resize(hi - lo);
      h5::read_rows(payload.get(), H5T_NATIVE_UINT8, lo, hi - lo, heap.data(), where);
    }
    std::vector<Event> out(count);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      Event& e = out[i];
      e.seq = r.seq;
      e.sim_s = r.sim_s;
      e.wall_s = r.wall_s;
      e.kind = static_cast<EventKind>(r.kind);
      e.cause_seq = r.cause;
      const char* text = sources.data() + i * h5::kSourceBytes;
      e.source.assign(text, strnlen(text, h5::kSourceBytes));
      if (r.payload_size > 0) e.payload.assign(heap, r.payload_offset - lo, r.payload_size);
      e.prev_hash = to_sha(r.prev_hash);
      e.hash = to_sha(r.hash);
    }
    return out;
  }

  // A row is whole when it sits at its place, its payload is in the heap and
  // its hash matches its content.
  bool row_whole(std::uint64_t i) const {
    try {
      const auto events = read_events(i, 1, index_rows);
      const Event& e = events[0];
      return e.seq == i + 1 && event_hash(e.prev_hash, e) == e.hash;
    } catch (const Error&) {
      return false;
    }
  }

  void load_extents() {
    index_rows = h5::extent(index.get(), where).at(0);
    payload_bytes = h5::extent(payload.get(), where).at(0);
    // A crash can leave rows past the last flush that were extended but never
    // written (zeros) or whose payload never arrived: trim them from the tail.
    valid_events = index_rows;
    while (valid_events > 0 && !row_whole(valid_events - 1)) --valid_events;

    keyframes = h5::extent(keyframe_time.get(), where).at(0);
    keyframes = std::min<std::size_t>(keyframes, h5::extent(keyframe_seq.get(), where).at(0));
    for (auto& f : key_fields) {
      const auto dims = h5::extent(f.blob ? f.extent.get() : f.values.get(), where);
      keyframes = std::min<std::size_t>(keyframes, dims.at(0));
      if (!f.blob) f.size = dims.size() == 2 ? dims[1] : 0;
    }
    for (auto& [name, c] : frames) {
      const auto dims = h5::extent(c.values.get(), where);
      if (dims.size() != 3 || dims[1] != static_cast<hsize_t>(c.grid.rows) || dims[2] != static_cast<hsize_t>(c.grid.cols))
        fail(where, "frames/{}/values is not [frame][{}][{}]", name, c.grid.rows, c.grid.cols);
      c.count = std::min<std::size_t>(dims[0], h5::extent(c.time_s.get(), where).at(0));
    }
    for (auto& [name, c] : edge_channels) {
      const auto dims = h5::extent(c.values.get(), where);
      if (dims.size() != 2 || dims[1] != c.edge_ids.size())
        fail(where, "edges/{}/values is not [row][{}]", name, c.edge_ids.size());
      c.count = std::min<std::size_t>(dims[0], h5::extent(c.time_s.get(), where).at(0));
    }
  }
};

RecordingReader::RecordingReader(const std::filesystem::path& path) : impl_(std::make_unique<Impl>()) {
  h5::quiet();
  Impl& m = *impl_;
  m.path = path;
  m.where = path.string();
  const std::string& where = m.where;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail_as(ErrorCategory::not_found, where, "no such recording");
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    h5::last_message();
    fail(where, "is not an HDF5 file (or its header is damaged)");
  }
  // SWMR read opens a file that a writer holds or that a crash left flagged as open.
  // HDF5 retries a SWMR read whose checksum fails (the writer may be midway),
  // sleeping longer each time; a few tries cover a live writer, while the
  // default of 100 makes a corrupt file hang for minutes.
  h5::Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_metadata_read_attempts(fapl.get(), 8);
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl.get());
  if (f < 0) {
    h5::last_message();
    f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  }
  m.file = h5::checked(f, H5Fclose, where, "cannot open the recording (truncated or corrupt?)");
  const hid_t file = m.file.get();

  if (H5Lexists(file, "meta", H5P_DEFAULT) <= 0 || H5Lexists(file, "events", H5P_DEFAULT) <= 0) {
    h5::last_message();
    fail(where, "is an HDF5 file but not a Cadereau recording (no /meta or /events)");
  }
  {
    Id g = h5::checked(H5Gopen2(file, "meta", H5P_DEFAULT), H5Gclose, where, "cannot open /meta");
    if (!h5::has_attribute(g.get(), "format") || h5::read_string_attribute(g.get(), "format", where) != h5::kFormatName)
      fail(where, "is an HDF5 file but not a Cadereau recording (/meta has no format '{}')", h5::kFormatName);
    if (h5::has_attribute(g.get(), "format_version")) {
      // A whole number: 2.5 must not read as 2, nor "3" fail in HDF5's words.
      if (!h5::is_numeric_attribute(g.get(), "format_version"))
        fail(where, "/meta format_version is not a number; this cadereau reads versions 1 to {}", h5::kFormatVersion);
      const double version = h5::read_double_attribute(g.get(), "format_version", where);
      if (!(version >= 1.0) || version != std::floor(version))
        fail(where, "/meta format_version {} is not a version number (1 to {})", version, h5::kFormatVersion);
      if (version > h5::kFormatVersion)
        fail(where, "is a recording of format version {}; this cadereau reads versions up to {}", version,
             h5::kFormatVersion);
    }
    auto text = [&](const char* name) {
      return h5::has_attribute(g.get(), name) ? h5::read_string_attribute(g.get(), name, where) : std::string();
    };
    m.meta.territory = text("territory");
    m.meta.scenario = text("scenario");
    m.meta.crs_wkt = text("crs_wkt");
    m.meta.start_time_iso = text("start_time_iso");
    m.meta.software_version = text("software_version");
    m.meta.parent_recording = text("parent_recording");
    m.meta.run_options_json = text("run_options_json");
    if (h5::has_attribute(g.get(), "fork_sim_s")) m.meta.fork_sim_s = h5::read_double_attribute(g.get(), "fork_sim_s", where);
    if (h5::has_attribute(g.get(), "created_wall_s"))
      m.meta.created_wall_s = h5::read_double_attribute(g.get(), "created_wall_s", where);
  }
  m.event_type = h5::event_row_type();
  m.series_type = h5::series_row_type();
  m.index = open_dataset(file, "events/index", where);
  m.payload = open_dataset(file, "events/payload", where);
  if (H5Lexists(file, "events/source", H5P_DEFAULT) > 0) {
    m.source = open_dataset(file, "events/source", where);
    m.source_type = h5::source_type();
  } else {
    m.source_type = h5::v1_source_member_type();  // read from the index rows
  }
  m.keyframe_time = open_dataset(file, "keyframes/time_s", where);
  m.keyframe_seq = open_dataset(file, "keyframes/event_seq", where);
  for (const auto& name : list_group(file, "keyframes", where)) {
    if (name == "time_s" || name == "event_seq") continue;
    Impl::KeyField f;
    f.name = name;
    Id object = h5::checked(H5Oopen(file, ("keyframes/" + name).c_str(), H5P_DEFAULT), H5Oclose, where,
                            "cannot open keyframes/" + name);
    if (H5Iget_type(object.get()) == H5I_GROUP) {
      f.blob = true;
      f.values = open_dataset(object.get(), "bytes", where);
      f.extent = open_dataset(object.get(), "extent", where);
    } else {
      f.values = open_dataset(file, "keyframes/" + name, where);
    }
    m.key_fields.push_back(std::move(f));
  }
  for (const auto& name : list_group(file, "frames", where)) {
    Impl::FrameChannel c;
    c.values = open_dataset(file, "frames/" + name + "/values", where);
    c.time_s = open_dataset(file, "frames/" + name + "/time_s", where);
    const auto gt = h5::read_doubles_attribute(c.values.get(), "geotransform", where);
    if (gt.size() != 6 || gt[2] != 0.0 || gt[4] != 0.0 || !(gt[1] > 0.0) || !(gt[5] < 0.0))
      fail(where, "frames/{}: geotransform is not a north-up grid", name);
    const auto dims = h5::extent(c.values.get(), where);
    if (dims.size() != 3) fail(where, "frames/{}/values is not three-dimensional", name);
    c.grid.rows = static_cast<int>(dims[1]);
    c.grid.cols = static_cast<int>(dims[2]);
    c.grid.x_min_m = gt[0];
    c.grid.cell_w_m = gt[1];
    c.grid.y_max_m = gt[3];
    c.grid.cell_h_m = -gt[5];
    c.crs_wkt = h5::read_string_attribute(c.values.get(), "crs_wkt", where);
    c.nodata = h5::read_double_attribute(c.values.get(), "nodata", where);
    c.units = optional_text(c.values.get(), "units", where);
    c.description = optional_text(c.values.get(), "description", where);
    if (c.description.empty()) c.description = name;
    m.frames.emplace(name, std::move(c));
  }
  for (const auto& name : list_group(file, "edges", where)) {
    Impl::EdgeChannel c;
    c.values = open_dataset(file, "edges/" + name + "/values", where);
    c.time_s = open_dataset(file, "edges/" + name + "/time_s", where);
    Id ids = open_dataset(file, "edges/" + name + "/edge_ids", where);
    std::string bytes(h5::extent(ids.get(), where).at(0), '\0');
    h5::read_rows(ids.get(), H5T_NATIVE_UINT8, 0, bytes.size(), bytes.data(), where);
    for (std::size_t begin = 0; begin < bytes.size();) {
      const auto end = bytes.find('\n', begin);
      if (end == std::string::npos) fail(where, "edges/{}/edge_ids does not end with a newline", name);
      c.edge_ids.push_back(bytes.substr(begin, end - begin));
      begin = end + 1;
    }
    c.units = optional_text(c.values.get(), "units", where);
    c.description = optional_text(c.values.get(), "description", where);
    if (c.description.empty()) c.description = name;
    m.edge_channels.emplace(name, std::move(c));
  }
  for (const auto& name : list_group(file, "timeseries", where)) {
    Impl::Series series{open_dataset(file, "timeseries/" + name, where), {}};
    series.info.units = optional_text(series.rows.get(), "units", where);
    series.info.description = optional_text(series.rows.get(), "description", where);
    series.info.datum = optional_text(series.rows.get(), "datum", where);
    m.series.emplace(name, std::move(series));
  }
  m.load_extents();
}

RecordingReader::~RecordingReader() = default;
RecordingReader::RecordingReader(RecordingReader&&) noexcept = default;
RecordingReader& RecordingReader::operator=(RecordingReader&&) noexcept = default;

void RecordingReader::refresh() {
  Impl& m = *impl_;
  auto refresh = [&](const Id& d) {
    if (d.valid()) h5::check(H5Drefresh(d.get()), m.where, "cannot refresh a dataset");
  };
  refresh(m.index);
  refresh(m.source);
  refresh(m.payload);
  refresh(m.keyframe_time);
  refresh(m.keyframe_seq);
  for (auto& f : m.key_fields) {
    refresh(f.values);
    refresh(f.extent);
  }
  for (auto& [name, c] : m.frames) {
    refresh(c.values);
    refresh(c.time_s);
  }
  for (auto& [name, c] : m.edge_channels) {
    refresh(c.values);
    refresh(c.time_s);
  }
  for (auto& [name, s] : m.series) refresh(s.rows);
  m.load_extents();
}

const RecordingMeta& RecordingReader::meta() const { return impl_->meta; }
const std::filesystem::path& RecordingReader::path() const { return impl_->path; }
std::uint64_t RecordingReader::event_count() const { return impl_->valid_events; }
std::uint64_t RecordingReader::torn_events() const { return impl_->index_rows - impl_->valid_events; }

std::vector<Event> RecordingReader::events(std::uint64_t first, std::uint64_t count) const {
  return impl_->read_events(first, count, impl_->valid_events);
}

std::vector<Event> RecordingReader::events_between(double from_sim_s, double to_sim_s) const {
  const Impl& m = *impl_;
  // First row with sim_s >= from, then first with sim_s > to.
  auto lower = [&](double t, bool strict) {
    std::uint64_t lo = 0, hi = m.valid_events;
    while (lo < hi) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      const double s = m.row(mid).sim_s;
      if (strict ? s <= t : s < t)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  };
  const std::uint64_t first = lower(from_sim_s, false);
  const std::uint64_t last = lower(to_sim_s, true);
  if (last <= first) return {};
  return events(first, last - first);
}

double RecordingReader::first_sim_s() const {
  return impl_->valid_events ? impl_->row(0).sim_s : std::numeric_limits<double>::quiet_NaN();
}
double RecordingReader::last_sim_s() const {
  return impl_->valid_events ? impl_->row(impl_->valid_events - 1).sim_s : std::numeric_limits<double>::quiet_NaN();
}

ChainCheck RecordingReader::verify_chain() const {
  const Impl& m = *impl_;
  ChainCheck check;
  check.events = m.valid_events;
  Sha256 prev{};
  double prev_sim_s = -std::numeric_limits<double>::infinity();
  auto broken = [&](std::uint64_t seq, std::string problem) {
    check.ok = false;
    check.first_bad_seq = seq;
    check.problem = std::move(problem);
    return check;
  };
  constexpr std::uint64_t kBatch = 1 << 15;
  std::vector<std::uint8_t> buffer;
  for (std::uint64_t first = 0; first < m.valid_events; first += kBatch) {
    const std::uint64_t n = std::min(kBatch, m.valid_events - first);
    std::vector<Event> batch;
    try {
      batch = events(first, n);
    } catch (const Error& e) {
      return broken(first + 1, e.what_only());
    }
    for (std::uint64_t i = 0; i < n; ++i) {
      const Event& e = batch[i];
      const std::uint64_t expected = first + i + 1;
      if (e.seq != expected)
        return broken(expected, fmt::format("row {} holds seq {} (events removed, duplicated or reordered)",
                                            expected - 1, e.seq));
      if (e.prev_hash != prev)
        return broken(expected, fmt::format("prev_hash does not match the hash of seq {} (chain cut)", expected - 1));
      if (event_hash(prev, e) != e.hash) return broken(expected, "hash does not match the event's content (altered)");
      if (!(e.sim_s >= prev_sim_s)) return broken(expected, fmt::format("sim time goes back to {} s", e.sim_s));
      if (static_cast<int>(e.kind) >= kEventKindCount) return broken(expected, "unknown event kind");
      prev = e.hash;
      prev_sim_s = e.sim_s;
    }
  }
  return check;
}

DatasetCheck RecordingReader::check_datasets() const {
  return check_recording_datasets(impl_->file.get(), impl_->where, impl_->index_rows);
}

std::vector<std::string> RecordingReader::frame_channels() const {
  std::vector<std::string> names;
  for (const auto& [name, c] : impl_->frames) names.push_back(name);
  return names;
}

std::vector<double> RecordingReader::frame_times_s(const std::string& channel) const {
  const Impl& m = *impl_;
  auto it = m.frames.find(channel);
  if (it == m.frames.end()) fail(m.where, "no frame channel '{}'", channel);
  std::vector<double> t(it->second.count);
  h5::read_rows(it->second.time_s.get(), H5T_NATIVE_DOUBLE, 0, t.size(), t.data(), m.where);
  return t;
}

std::optional<RecordedFrame> RecordingReader::frame_nearest(const std::string& channel, double time_s) const {
  const Impl& m = *impl_;
  const auto times = frame_times_s(channel);
  if (times.empty()) return std::nullopt;
  const auto& c = m.frames.at(channel);
  std::size_t best = 0;
  for (std::size_t i = 1; i < times.size(); ++i)
    if (std::abs(times[i] - time_s) < std::abs(times[best] - time_s)) best = i;
  RecordedFrame f;
  f.time_s = times[best];
  f.index = best;
  Crs crs = c.crs_wkt.empty() ? Crs() : Crs::from_user_input(c.crs_wkt);
  f.raster = Raster(c.grid, std::move(crs), 0.0f, c.nodata);
  h5::read_rows(c.values.get(), H5T_NATIVE_FLOAT, best, 1, f.raster.values().data(), m.where);
  BandInfo band{fmt::format("{} at {:g} s after the start of the run", c.description, f.time_s), c.units,
                {{"TIME_S", fmt::format("{:g}", f.time_s)}}};
  if (!m.meta.start_time_iso.empty()) {
    band.metadata["START_TIME"] = m.meta.start_time_iso;
    if (auto at = iso_time_plus(m.meta.start_time_iso, f.time_s)) {
      band.metadata["TIME"] = *at;
      band.description = fmt::format("{} at {} ({:g} s after the start of the run, {})", c.description, *at, f.time_s,
                                     m.meta.start_time_iso);
    }
  }
  f.raster.set_band(std::move(band));
  return f;
}

std::vector<std::string> RecordingReader::edge_channels() const {
  std::vector<std::string> names;
  for (const auto& [name, c] : impl_->edge_channels) names.push_back(name);
  return names;
}

std::vector<double> RecordingReader::edge_times_s(const std::string& channel) const {
  const Impl& m = *impl_;
  auto it = m.edge_channels.find(channel);
  if (it == m.edge_channels.end()) fail(m.where, "no edge channel '{}'", channel);
  std::vector<double> t(it->second.count);
  h5::read_rows(it->second.time_s.get(), H5T_NATIVE_DOUBLE, 0, t.size(), t.data(), m.where);
  return t;
}

std::optional<RecordedEdgeValues> RecordingReader::edge_values_at_or_before(const std::string& channel,
                                                                           double time_s) const {
  const auto times = edge_times_s(channel);
  const auto after = std::upper_bound(times.begin(), times.end(), time_s);
  if (after == times.begin()) return std::nullopt;
  const auto& c = impl_->edge_channels.at(channel);
  RecordedEdgeValues out;
  out.index = static_cast<std::size_t>(after - times.begin()) - 1;
  out.time_s = times[out.index];
  out.edge_ids = c.edge_ids;
  out.values.resize(c.edge_ids.size());
  h5::read_rows(c.values.get(), H5T_NATIVE_FLOAT, out.index, 1, out.values.data(), impl_->where);
  out.units = c.units;
  out.description = c.description;
  return out;
}

std::vector<double> RecordingReader::keyframe_times_s() const {
  const Impl& m = *impl_;
  std::vector<double> t(m.keyframes);
  h5::read_rows(m.keyframe_time.get(), H5T_NATIVE_DOUBLE, 0, t.size(), t.data(), m.where);
  return t;
}

std::optional<Keyframe> RecordingReader::keyframe_at_or_before(double sim_s) const {
  const Impl& m = *impl_;
  const auto times = keyframe_times_s();
  const auto it = std::upper_bound(times.begin(), times.end(), sim_s);
  if (it == times.begin()) return std::nullopt;
  const std::size_t k = static_cast<std::size_t>(it - times.begin()) - 1;
  Keyframe key;
  key.sim_s = times[k];
  key.index = k;
  h5::read_rows(m.keyframe_seq.get(), H5T_NATIVE_UINT64, k, 1, &key.event_seq, m.where);
  for (const auto& f : m.key_fields) {
    if (f.blob) {
      std::uint64_t extent[2] = {0, 0};
      h5::read_rows(f.extent.get(), H5T_NATIVE_UINT64, k, 1, extent, m.where);
      const auto bytes = h5::extent(f.values.get(), m.where).at(0);
      if (extent[0] > bytes || extent[1] > bytes - extent[0])
        fail(m.where, "keyframe {} field '{}': blob {}+{} lies outside its {} bytes (corrupt file)", k, f.name,
             extent[0], extent[1], bytes);
      std::vector<std::uint8_t> blob(extent[1]);
      h5::read_rows(f.values.get(), H5T_NATIVE_UINT8, extent[0], extent[1], blob.data(), m.where);
      key.blob_names.push_back(f.name);
      key.blobs.push_back(std::move(blob));
    } else {
      std::vector<double> values(f.size);
      h5::read_rows(f.values.get(), H5T_NATIVE_DOUBLE, k, 1, values.data(), m.where);
      key.names.push_back(f.name);
      key.arrays.push_back(std::move(values));
    }
  }
  return key;
}

std::vector<std::string> RecordingReader::series_names() const {
  std::vector<std::string> names;
  for (const auto& [name, s] : impl_->series) names.push_back(name);
  return names;
}

SeriesData RecordingReader::series(const std::string& name) const {
  const Impl& m = *impl_;
  auto it = m.series.find(name);
  if (it == m.series.end()) fail(m.where, "no time series '{}'", name);
  const auto n = h5::extent(it->second.rows.get(), m.where).at(0);
  std::vector<h5::SeriesRow> rows(n);
  h5::read_rows(it->second.rows.get(), m.series_type.get(), 0, n, rows.data(), m.where);
  SeriesData out;
  out.info = it->second.info;
  for (const auto& r : rows) {
    out.time_s.push_back(r.time_s);
    out.values.push_back(r.value);
  }
  return out;
}

}  // namespace cadereau::twin
