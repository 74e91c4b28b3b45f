#pragma once
// Session recordings: the twin's memory and black box. One HDF5 file per
// session, readable by h5dump and h5py (standard types, gzip, shuffle and
// Fletcher-32 filters only: frames and keyframes carry a checksum per chunk), written in HDF5's single-writer/multiple-reader (SWMR) mode
// so that a process killed at any moment leaves a file that opens and holds
// everything up to its last flush, and so that a reader can follow a file
// that is still being written.
//
// Layout (every dataset is chunked and extendible along its first axis):
//   /meta                       attributes: format, format_version, territory,
//                               scenario, crs_wkt, start_time_iso,
//                               software_version, parent_recording,
//                               fork_sim_s (forks only), run_options_json,
//                               created_wall_s
//   /events/index               compound, one row per event: seq (u64, from 1),
//                               sim_s, wall_s (unix), kind (u8 enum), cause
//                               (u64: the seq of the event behind it, 0 = none
//                               or not given), payload_offset (u64),
//                               payload_size (u32), prev_hash, hash (u8[32],
//                               SHA-256)
//   /events/source              string[64] (UTF-8), one row per event: who or
//                               what recorded it (a dataset of its own, so
//                               that h5py's .asstr() reads it as text)
//   /events/payload             u8: the payloads (JSON text) end to end;
//                               event i is payload[offset : offset + size]
//   /keyframes/time_s           f64 [k]; /keyframes/event_seq u64 [k] (last
//                               event recorded before the keyframe)
//   /keyframes/<field>          f64 [k][n] for array fields
//   /keyframes/<field>/bytes    u8 and /keyframes/<field>/extent u64 [k][2]
//                               (offset, size) for blob fields (SUMO state)
//   /timeseries/<name>          compound {time_s f64, value f64}, attributes
//                               units (of value), description and datum
//                               when the layout gives them
//   /frames/<name>/values       f32 [f][rows][cols], attributes geotransform
//                               (GDAL's 6 doubles), crs_wkt, units, nodata,
//                               description
//   /frames/<name>/time_s       f64 [f]
//   /edges/<name>/values        f32 [f][n]: one value per road edge, in the
//                               order of edge_ids; attributes units, description
//   /edges/<name>/time_s        f64 [f]
//   /edges/<name>/edge_ids      u8: the n edge ids, each ended by a newline
// Times (sim_s, time_s) are seconds after the start of the run, whose clock
// time is start_time_iso. Attributes that hold text are
// variable-length UTF-8 strings: h5py reads them as str.
// Payloads live in a byte heap, and sources in fixed-length strings, rather
// than in variable-length strings because SWMR does not cover variable-length
// data in datasets. Format version 1 kept the source in the index row; the
// reader still opens such files.
//
// Hash chain: hash_n = SHA-256(prev_hash_n || canonical bytes of event n),
// prev_hash_1 = 32 zero bytes, prev_hash_n = hash_{n-1}. Canonical bytes:
// seq (u64), sim_s and wall_s (IEEE-754 bits as u64), kind (u8), cause (u64),
// source and payload each as (u32 length, bytes); integers little-endian.
//
// SWMR forbids creating objects once writing has started, so every frame
// channel, edge channel, time series and keyframe field is declared up front in
// RecordingLayout. After a crash the file keeps SWMR's "open for writing"
// flag: RecordingReader and h5py (`h5py.File(path, "r", swmr=True)`) open it
// as it is; h5dump needs `h5clear -s FILE` first.
//
// Neither class is thread-safe, and Debian's HDF5 is not thread-safe either:
// use recordings from one thread at a time.

#include "cadereau/twin/raster.h"

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cadereau::twin {

enum class EventKind : std::uint8_t {
  observation = 0,
  inject = 1,
  operator_action = 2,
  simulation_event = 3,
  impact = 4,
  alert = 5,
  audit = 6,
};
inline constexpr int kEventKindCount = 7;
const char* to_string(EventKind kind);
// Throws Error for an unknown name.
EventKind parse_event_kind(const std::string& name);

using Sha256 = std::array<std::uint8_t, 32>;
std::string to_hex(const Sha256& digest);
// SHA-256 of a byte string (FIPS 180-4).
Sha256 sha256(std::span<const std::uint8_t> bytes);

struct Event {
  std::uint64_t seq = 0;          // 1, 2, 3... in order of recording
  double sim_s = 0.0;             // session clock when the event entered the twin
  double wall_s = 0.0;            // unix time, seconds
  EventKind kind = EventKind::simulation_event;
  std::string source;             // who or what: "flood", "operator:alice"; at most 64 bytes
  std::uint64_t cause_seq = 0;    // the event that caused this one; 0 = none
  std::string payload;            // JSON text by convention
  Sha256 prev_hash{};
  Sha256 hash{};
};

// hash = SHA-256(prev_hash || canonical bytes of the event); see the file comment.
Sha256 event_hash(const Sha256& prev_hash, const Event& event);

struct RecordingMeta {
  std::string territory;
  std::string scenario;
  std::string crs_wkt;
  // The clock time of sim time 0: a scenario's start ("1988-10-03T07:00:00",
  // its local time) or, when empty, the recording's creation ("...Z", UTC).
  std::string start_time_iso;
  std::string software_version;   // "cadereau X.Y.Z" when empty
  std::string parent_recording;   // path of the parent session for a fork
  std::optional<double> fork_sim_s;  // the parent's sim time where this one starts
  std::string run_options_json;   // what re-driving the session needs (e.g. flood options)
  double created_wall_s = 0.0;    // unix time; filled by the recorder
};

// A raster channel recorded as frames on one grid.
struct FrameLayout {
  std::string name;               // "depth_m"
  GridSpec grid;
  std::string crs_wkt;
  std::string units;              // "m"
  double nodata = -9999.0;
  std::string description;        // "water depth"; the name when empty
};

// A value per road edge recorded over time (traffic on each street).
struct EdgeChannelLayout {
  std::string name;                    // "traffic_speed_ratio"
  std::vector<std::string> edge_ids;   // the network's ids, in the order of the values
  std::string units;                   // "1", "vehicles"
  std::string description;             // the name when empty
};

// What a time series holds, written as attributes of its dataset.
struct SeriesInfo {
  std::string units;              // of the values: "m", "vehicles", "1" for a ratio
  std::string description;        // "water-surface elevation at gauge lg-ales"
  std::string datum;              // for elevations: "NGF-IGN69"; empty otherwise
};

struct KeyframeFieldLayout {
  enum class Type { float64_array, blob };
  std::string name;
  Type type = Type::float64_array;
  std::size_t size = 0;           // element count for float64_array; unused for blob
};

struct RecordingLayout {
  RecordingMeta meta;
  std::vector<FrameLayout> frames;
  std::vector<EdgeChannelLayout> edge_channels;
  std::vector<std::string> series;
  // By series name: what each declared series holds (every series should
  // have its units). A name that is not in `series` is refused.
  std::map<std::string, SeriesInfo> series_info;
  std::vector<KeyframeFieldLayout> keyframe_fields;
};

struct RecorderOptions {
  // Buffered events and samples reach the file at least this often; a crash
  // loses at most what was appended since. 0 disables a criterion.
  double flush_every_wall_s = 1.0;
  double flush_every_sim_s = 1.0;
  // gzip level (1..9) of frames and keyframes, which are written whole once.
  int gzip_level = 1;
  // Events and samples are rewritten in place at every flush while their
  // last chunk fills up. Uncompressed, a chunk keeps its place; compressed,
  // each flush of a growing chunk moves it and leaves the old copy as dead
  // space (about the chunk's compressed size per flush). Off by default.
  bool compress_events = false;
};

// One field of a keyframe: an array of doubles or an opaque blob (by name).
struct KeyframeField {
  std::string name;
  std::span<const double> values;  // float64_array fields
  std::span<const std::uint8_t> blob;  // blob fields
};

class Recorder {
 public:
  // Creates (or truncates) the file, writes the metadata and the layout, and
  // switches to SWMR writing. Throws Error naming the file when HDF5 refuses,
  // or when the layout has duplicate or empty names, or describes a series
  // it does not declare.
  Recorder(const std::filesystem::path& path, RecordingLayout layout, RecorderOptions options = {});
  ~Recorder();  // closes; never throws (a failing close is lost: call close())
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Appends an event and returns its seq. sim_s must not go back; wall_s < 0
  // means now. Throws Error for a time going back, a cause that does not
  // exist yet, a source longer than 64 bytes, or an HDF5 failure.
  std::uint64_t append(EventKind kind, double sim_s, const std::string& source, const std::string& payload,
                       std::uint64_t cause_seq = 0, double wall_s = -1.0);
  // Appends a sample to a declared time series. Throws Error for an unknown name.
  void append_sample(const std::string& series, double time_s, double value);
  // Appends a raster frame (row-major, rows x cols of the declared grid).
  // Throws Error for an unknown channel or a size mismatch.
  void append_frame(const std::string& channel, double time_s, std::span<const float> values);
  // Appends a value per edge of a declared edge channel, in its edge order.
  // Throws Error for an unknown channel or a size mismatch.
  void append_edge_values(const std::string& channel, double time_s, std::span<const float> values);
  // Appends a keyframe holding every declared field. Throws Error for a
  // missing, unknown or wrongly sized field.
  void append_keyframe(double sim_s, const std::vector<KeyframeField>& fields);

  // Writes everything buffered and flushes the file: after it returns, a
  // crash keeps all of it. Throws Error on an HDF5 failure.
  void flush();
  // Flushes and closes; later calls do nothing. Throws Error on failure.
  void close();

  std::uint64_t last_seq() const;
  std::uint64_t flushed_seq() const;  // last seq known to be on disk
  const Sha256& last_hash() const;
  const std::filesystem::path& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct ChainCheck {
  bool ok = true;
  std::uint64_t events = 0;
  std::uint64_t first_bad_seq = 0;  // 0 when ok
  std::string problem;              // what is wrong at first_bad_seq
};

// What RecordingReader::check_datasets() found beyond the event log.
struct DatasetCheck {
  std::vector<std::string> problems;  // each names its dataset: "frames/depth_m/values: ..."
  std::size_t frames = 0;             // frames read whole, every channel
  std::size_t edge_rows = 0;          // rows of edge channels read whole, every channel
  std::size_t keyframes = 0;          // keyframes read whole, every field
  std::size_t series = 0;             // time series read whole
  // Channels (keyframes) whose last row has its values but no time: a crash
  // between the two writes. The reader leaves that row out; not a problem.
  std::size_t torn_frames = 0;
  std::size_t torn_keyframes = 0;
  bool ok() const { return problems.empty(); }
};

struct RecordedFrame {
  double time_s = 0.0;
  std::size_t index = 0;
  // On the recorded grid, with the recorded CRS and nodata; its band says
  // what it holds, in which unit and when (metadata TIME_S, and START_TIME
  // and TIME when the recording has a start time).
  Raster raster;
};

struct RecordedEdgeValues {
  double time_s = 0.0;
  std::size_t index = 0;
  std::vector<std::string> edge_ids;
  std::vector<float> values;  // parallel to edge_ids
  std::string units, description;
};

struct Keyframe {
  double sim_s = 0.0;
  std::size_t index = 0;
  std::uint64_t event_seq = 0;
  std::vector<std::string> names;
  std::vector<std::vector<double>> arrays;       // float64 fields, in the order of names
  std::vector<std::string> blob_names;
  std::vector<std::vector<std::uint8_t>> blobs;
  // Throws Error when the field is absent.
  const std::vector<double>& array(const std::string& name) const;
  const std::vector<std::uint8_t>& blob(const std::string& name) const;
};

struct SeriesData {
  std::vector<double> time_s;
  std::vector<double> values;
  SeriesInfo info;                // empty fields when the file does not say
};

class RecordingReader {
 public:
  // Opens for reading, also while a writer is still at it (SWMR) or after it
  // crashed. Throws Error naming the file when it is missing, truncated,
  // corrupt or not a Cadereau recording.
  explicit RecordingReader(const std::filesystem::path& path);
  ~RecordingReader();
  RecordingReader(RecordingReader&&) noexcept;
  RecordingReader& operator=(RecordingReader&&) noexcept;

  // Picks up what the writer flushed since opening (SWMR).
  void refresh();

  const RecordingMeta& meta() const;
  const std::filesystem::path& path() const;

  // Events whose rows are complete. A tail torn by a crash (rows past the
  // last flush) is left out and counted in torn_events().
  std::uint64_t event_count() const;
  std::uint64_t torn_events() const;
  // Events [first, first + count) by index (index = seq - 1). Throws Error
  // when a payload is outside the payload heap (corrupt file).
  std::vector<Event> events(std::uint64_t first, std::uint64_t count) const;
  // Events with from_sim_s <= sim_s <= to_sim_s (binary search: sim time never goes back).
  std::vector<Event> events_between(double from_sim_s, double to_sim_s) const;
  double first_sim_s() const;  // NaN without events
  double last_sim_s() const;
  // Recomputes the hash chain over all events, streaming; reports the first break.
  ChainCheck verify_chain() const;
  // Reads every frame, keyframe and time series whole (HDF5 checks the
  // checksums of frames and keyframes as it reads them) and reports what is
  // wrong: unreadable or corrupt chunks, times that are not finite or go
  // back, as many rows as times, non-finite values and negative depths,
  // keyframes pointing past the event log. Never throws for what it finds.
  DatasetCheck check_datasets() const;

  std::vector<std::string> frame_channels() const;
  std::vector<double> frame_times_s(const std::string& channel) const;
  // The frame nearest to time_s (the earlier one on a tie); nothing without frames.
  std::optional<RecordedFrame> frame_nearest(const std::string& channel, double time_s) const;

  // Edge channels: none in a recording made before they existed.
  std::vector<std::string> edge_channels() const;
  std::vector<double> edge_times_s(const std::string& channel) const;  // throws Error for an unknown channel
  // The values last recorded at or before time_s; nothing before the first.
  std::optional<RecordedEdgeValues> edge_values_at_or_before(const std::string& channel, double time_s) const;

  std::vector<double> keyframe_times_s() const;
  // The last keyframe at or before sim_s: where a replay or a fork starts.
  std::optional<Keyframe> keyframe_at_or_before(double sim_s) const;

  std::vector<std::string> series_names() const;
  SeriesData series(const std::string& name) const;  // throws Error for an unknown name

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cadereau::twin
