#include "recording_check.h"

#include "recording_hdf5.h"

#include <cmath>
#include <optional>
#include <vector>

namespace cadereau::twin {

namespace {

using h5::Id;

// One look at a recording: every problem names its dataset.
class Checker {
 public:
  Checker(hid_t file, std::string where, std::uint64_t event_rows)
      : file_(file), where_(std::move(where)), event_rows_(event_rows) {}

  DatasetCheck run() {
    for (const auto& name : list("frames")) frames(name);
    for (const auto& name : list("edges")) edges(name);
    keyframes();
    for (const auto& name : list("timeseries")) series(name);
    return std::move(out_);
  }

 private:
  void problem(std::string text) { out_.problems.push_back(std::move(text)); }

  std::vector<std::string> list(const char* group) {
    std::vector<std::string> names;
    if (H5Lexists(file_, group, H5P_DEFAULT) <= 0) {
      h5::last_message();
      return names;
    }
    hid_t g = H5Gopen2(file_, group, H5P_DEFAULT);
    if (g < 0) {
      problem(fmt::format("{}: cannot open the group ({})", group, h5::last_message()));
      return names;
    }
    Id owner(g, H5Gclose);
    hsize_t idx = 0;
    const herr_t status = H5Literate(
        g, H5_INDEX_NAME, H5_ITER_INC, &idx,
        [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
          static_cast<std::vector<std::string>*>(data)->emplace_back(name);
          return 0;
        },
        &names);
    if (status < 0) problem(fmt::format("{}: cannot list the group ({})", group, h5::last_message()));
    return names;
  }

  std::optional<Id> open(const std::string& path) {
    const hid_t d = H5Dopen2(file_, path.c_str(), H5P_DEFAULT);
    if (d < 0) {
      problem(fmt::format("{}: cannot open ({})", path, h5::last_message()));
      return std::nullopt;
    }
    return Id(d, H5Dclose);
  }

  std::optional<std::vector<hsize_t>> dims(const Id& d, const std::string& path, std::size_t rank) {
    try {
      auto out = h5::extent(d.get(), where_);
      if (out.size() == rank) return out;
      problem(fmt::format("{}: has {} dimensions; expected {}", path, out.size(), rank));
    } catch (const Error& e) {
      problem(fmt::format("{}: {}", path, e.what_only()));
    }
    return std::nullopt;
  }

  bool read(const Id& d, hid_t type, hsize_t first, hsize_t count, void* buffer, const std::string& path,
            const std::string& what) {
    try {
      h5::read_rows(d.get(), type, first, count, buffer, where_);
      return true;
    } catch (const Error& e) {
      problem(fmt::format("{}: {} cannot be read: {}", path, what, e.what_only()));
      return false;
    }
  }

  // Times must be finite and never go back.
  void check_times(const std::vector<double>& t, const std::string& path) {
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (!std::isfinite(t[i])) {
        problem(fmt::format("{}: time {} of row {} is not finite", path, t[i], i));
        return;
      }
      if (i > 0 && t[i] < t[i - 1]) {
        problem(fmt::format("{}: time goes back from {} s to {} s at row {}", path, t[i - 1], t[i], i));
        return;
      }
    }
  }

  // Rows of a dataset written before the times: equal, or one more when a
  // crash came between the two writes (a torn tail, left out by the reader).
  bool rows_agree(hsize_t rows, hsize_t times, const std::string& path, const std::string& times_path, bool& torn) {
    if (rows == times) return true;
    if (rows == times + 1) {
      torn = true;
      return true;
    }
    problem(fmt::format("{}: {} rows for the {} times of {}", path, rows, times, times_path));
    return false;
  }

  void frames(const std::string& name) {
    const std::string values_path = "frames/" + name + "/values", times_path = "frames/" + name + "/time_s";
    auto values = open(values_path);
    auto times = open(times_path);
    if (!values || !times) return;
    const auto vd = dims(*values, values_path, 3);
    const auto td = dims(*times, times_path, 1);
    if (!vd || !td) return;
    bool torn = false;
    if (!rows_agree((*vd)[0], (*td)[0], values_path, times_path, torn)) return;
    if (torn) ++out_.torn_frames;
    const hsize_t n = (*td)[0];
    std::vector<double> t(n);
    if (!read(*times, H5T_NATIVE_DOUBLE, 0, n, t.data(), times_path, "the times")) return;
    check_times(t, times_path);
    std::optional<double> nodata;
    if (h5::has_attribute(values->get(), "nodata")) nodata = h5::read_double_attribute(values->get(), "nodata", where_);
    // Depths are never negative; other channels (speeds, levels) may be.
    const bool depth = name.size() >= 7 && name.compare(name.size() - 7, 7, "depth_m") == 0;
    const hsize_t rows = (*vd)[1], cols = (*vd)[2];
    std::vector<float> frame(rows * cols);
    std::size_t bad = 0, bad_frames = 0;
    std::string first_bad;
    for (hsize_t i = 0; i < n; ++i) {
      if (!read(*values, H5T_NATIVE_FLOAT, i, 1, frame.data(), values_path, fmt::format("frame {} ({} s)", i, t[i])))
        continue;
      ++out_.frames;
      std::size_t bad_here = 0;
      for (std::size_t k = 0; k < frame.size(); ++k) {
        const float v = frame[k];
        if (nodata && v == static_cast<float>(*nodata)) continue;
        if (std::isfinite(v) && !(depth && v < 0.0f)) continue;
        if (bad == 0 && bad_here == 0)
          first_bad = fmt::format("frame {} ({} s), row {}, column {}: {}", i, t[i], k / cols, k % cols, v);
        ++bad_here;
      }
      bad += bad_here;
      bad_frames += bad_here > 0;
    }
    if (bad > 0)
      problem(fmt::format("{}: {} values in {} frames are {}, first at {}", values_path, bad, bad_frames,
                          depth ? "not finite or negative depths" : "not finite", first_bad));
  }

  void edges(const std::string& name) {
    const std::string values_path = "edges/" + name + "/values", times_path = "edges/" + name + "/time_s";
    auto values = open(values_path);
    auto times = open(times_path);
    if (!values || !times) return;
    const auto vd = dims(*values, values_path, 2);
    const auto td = dims(*times, times_path, 1);
    if (!vd || !td) return;
    bool torn = false;
    if (!rows_agree((*vd)[0], (*td)[0], values_path, times_path, torn)) return;
    const hsize_t n = (*td)[0];
    std::vector<double> t(n);
    if (!read(*times, H5T_NATIVE_DOUBLE, 0, n, t.data(), times_path, "the times")) return;
    check_times(t, times_path);
    std::vector<float> row((*vd)[1]);
    std::size_t bad = 0;
    std::string first_bad;
    for (hsize_t i = 0; i < n; ++i) {
      if (!read(*values, H5T_NATIVE_FLOAT, i, 1, row.data(), values_path, fmt::format("row {} ({} s)", i, t[i])))
        continue;
      ++out_.edge_rows;
      for (std::size_t k = 0; k < row.size(); ++k)
        if (!std::isfinite(row[k]) && bad++ == 0) first_bad = fmt::format("row {} ({} s), edge {}: {}", i, t[i], k, row[k]);
    }
    if (bad > 0) problem(fmt::format("{}: {} values are not finite, first at {}", values_path, bad, first_bad));
  }

  struct Field {
    std::string name;
    bool blob = false;
    Id values;  // [k][n] doubles, or the blob bytes
    Id extent;  // blob: [k][2] (offset, size)
    hsize_t size = 0;
  };

  // Every field of the keyframes, its rows checked against the n times;
  // nothing when one cannot be opened or disagrees (said as a problem).
  std::optional<std::vector<Field>> key_fields(hsize_t n, bool& torn) {
    std::vector<Field> fields;
    bool whole = true;
    for (const auto& name : list("keyframes")) {
      if (name == "time_s" || name == "event_seq") continue;
      const std::string path = "keyframes/" + name;
      const hid_t object = H5Oopen(file_, path.c_str(), H5P_DEFAULT);
      if (object < 0) {
        problem(fmt::format("{}: cannot open ({})", path, h5::last_message()));
        whole = false;
        continue;
      }
      Field f;
      f.name = path;
      f.blob = H5Iget_type(object) == H5I_GROUP;
      H5Oclose(object);
      auto values = open(f.blob ? path + "/bytes" : path);
      auto extent = f.blob ? open(path + "/extent") : std::nullopt;
      if (!values || (f.blob && !extent)) {
        whole = false;
        continue;
      }
      const auto rows = f.blob ? dims(*extent, path + "/extent", 2) : dims(*values, path, 2);
      if (!rows || (f.blob && !dims(*values, path + "/bytes", 1))) {
        whole = false;
        continue;
      }
      whole = rows_agree((*rows)[0], n, f.blob ? path + "/extent" : path, "keyframes/time_s", torn) && whole;
      if (!f.blob) f.size = (*rows)[1];
      f.values = std::move(*values);
      if (extent) f.extent = std::move(*extent);
      fields.push_back(std::move(f));
    }
    if (!whole) return std::nullopt;
    return fields;
  }

  void keyframes() {
    if (H5Lexists(file_, "keyframes", H5P_DEFAULT) <= 0) {
      h5::last_message();
      return;
    }
    auto time = open("keyframes/time_s");
    auto seq = open("keyframes/event_seq");
    if (!time || !seq) return;
    const auto td = dims(*time, "keyframes/time_s", 1);
    const auto sd = dims(*seq, "keyframes/event_seq", 1);
    if (!td || !sd) return;
    const hsize_t n = (*td)[0];
    bool torn = false;
    const bool seq_whole = rows_agree((*sd)[0], n, "keyframes/event_seq", "keyframes/time_s", torn);
    const auto fields = key_fields(n, torn);
    if (!seq_whole || !fields) return;
    if (torn) ++out_.torn_keyframes;
    std::vector<double> t(n);
    std::vector<std::uint64_t> seqs(n);
    if (!read(*time, H5T_NATIVE_DOUBLE, 0, n, t.data(), "keyframes/time_s", "the times")) return;
    if (!read(*seq, H5T_NATIVE_UINT64, 0, n, seqs.data(), "keyframes/event_seq", "the event numbers")) return;
    check_times(t, "keyframes/time_s");
    for (hsize_t k = 0; k < n; ++k)
      if (seqs[k] > event_rows_ || (k > 0 && seqs[k] < seqs[k - 1])) {
        problem(fmt::format("keyframes/event_seq: keyframe {} ({} s) follows event seq {}, {}", k, t[k], seqs[k],
                            seqs[k] > event_rows_ ? fmt::format("past the {} events recorded", event_rows_)
                                                  : fmt::format("before the previous keyframe's {}", seqs[k - 1])));
        break;
      }
    for (const auto& f : *fields) field(f, t);
    out_.keyframes = n;
  }

  void field(const Field& f, const std::vector<double>& t) {
    if (f.blob) {
      const auto bytes_dims = dims(f.values, f.name + "/bytes", 1);
      if (!bytes_dims) return;
      const hsize_t heap = (*bytes_dims)[0];
      std::vector<std::uint8_t> blob;
      for (std::size_t k = 0; k < t.size(); ++k) {
        std::uint64_t extent[2] = {0, 0};
        if (!read(f.extent, H5T_NATIVE_UINT64, k, 1, extent, f.name + "/extent", fmt::format("keyframe {}", k))) return;
        if (extent[0] > heap || extent[1] > heap - extent[0]) {
          problem(fmt::format("{}/extent: keyframe {} ({} s) points at bytes {}+{} past the {} of {}/bytes", f.name, k,
                              t[k], extent[0], extent[1], heap, f.name));
          return;
        }
        blob.resize(extent[1]);
        if (!read(f.values, H5T_NATIVE_UINT8, extent[0], extent[1], blob.data(), f.name + "/bytes",
                  fmt::format("keyframe {} ({} s)", k, t[k])))
          return;
      }
      return;
    }
    std::vector<double> row(f.size);
    for (std::size_t k = 0; k < t.size(); ++k) {
      if (!read(f.values, H5T_NATIVE_DOUBLE, k, 1, row.data(), f.name, fmt::format("keyframe {} ({} s)", k, t[k])))
        return;
      for (std::size_t i = 0; i < row.size(); ++i)
        if (!std::isfinite(row[i])) {
          problem(fmt::format("{}: keyframe {} ({} s) holds {} at element {}", f.name, k, t[k], row[i], i));
          return;
        }
    }
  }

  void series(const std::string& name) {
    const std::string path = "timeseries/" + name;
    auto rows = open(path);
    if (!rows) return;
    const auto d = dims(*rows, path, 1);
    if (!d) return;
    std::vector<h5::SeriesRow> data((*d)[0]);
    Id type = h5::series_row_type();
    if (!read(*rows, type.get(), 0, data.size(), data.data(), path, "the samples")) return;
    std::vector<double> t;
    t.reserve(data.size());
    for (const auto& r : data) t.push_back(r.time_s);
    check_times(t, path);
    for (std::size_t i = 0; i < data.size(); ++i)
      if (std::isnan(data[i].value)) {
        problem(fmt::format("{}: sample {} ({} s) is NaN", path, i, data[i].time_s));
        break;
      }
    ++out_.series;
  }

  hid_t file_;
  std::string where_;
  std::uint64_t event_rows_;
  DatasetCheck out_;
};

}  // namespace

DatasetCheck check_recording_datasets(hid_t file, const std::string& where, std::uint64_t event_rows) {
  return Checker(file, where, event_rows).run();
}

}  // namespace cadereau::twin
