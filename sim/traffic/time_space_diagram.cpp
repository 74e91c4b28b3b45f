// The time-space diagram planners read light plans in: time across, distance
// along the corridor up; each light a bar at its stop line (through green or
// red, one thin bar per direction), the analytic progression bands as
// translucent parallelograms, and simulated vehicles as lines.

#include "cadereau/sim/traffic/greenwave.h"
#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace cadereau::sim::traffic {

void write_time_space_svg(const std::filesystem::path& file, const std::string& title, const Corridor& corridor,
                          const CorridorRecord& record, const std::optional<BandwidthProblem>& problem,
                          const std::vector<double>& offsets_s, double speed_m_s, double t0_s, double t1_s) {
  const double width_px = 1200, height_px = 720, left = 90, right = 30, top = 50, bottom = 60;
  const double plot_w = width_px - left - right, plot_h = height_px - top - bottom;
  const double length_m = corridor.length_m();
  const double y_min = -60.0, y_max = length_m + 60.0;
  if (!(t1_s > t0_s)) t1_s = t0_s + 1.0;
  auto X = [&](double t) { return left + (t - t0_s) / (t1_s - t0_s) * plot_w; };
  auto Y = [&](double d) { return top + plot_h - (d - y_min) / (y_max - y_min) * plot_h; };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{2}\" y=\"28\" font-size=\"16\">{3}</text>\n",
      width_px, height_px, left, title);
  svg += fmt::format("<defs><clipPath id=\"plot\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath></defs>\n",
                     left, top, plot_w, plot_h);
  // Axes and grid.
  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n", left, top,
                     plot_w, plot_h);
  const double t_tick = (t1_s - t0_s) > 900 ? 120.0 : 60.0;
  for (double t = std::ceil(t0_s / t_tick) * t_tick; t <= t1_s; t += t_tick)
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/><text x=\"{0:.1f}\" y=\"{3}\" "
        "text-anchor=\"middle\">{4:.0f}</text>\n",
        X(t), top, top + plot_h, top + plot_h + 18, t);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">time (s)</text>\n", left + plot_w / 2,
                     height_px - 15);
  svg += fmt::format("<text x=\"20\" y=\"{}\" transform=\"rotate(-90 20 {})\" text-anchor=\"middle\">distance along the "
                     "corridor (m)</text>\n",
                     top + plot_h / 2, top + plot_h / 2);

  svg += "<g clip-path=\"url(#plot)\">\n";
  // Progression bands, repeated every cycle.
  if (problem && offsets_s.size() == corridor.signals.size()) {
    const auto bands = evaluate_bandwidth(*problem, offsets_s);
    const double c = problem->cycle_s;
    const double travel_s = length_m / speed_m_s;
    const double k0 = std::floor((t0_s - travel_s - c) / c), k1 = std::ceil((t1_s + c) / c);
    for (double k = k0; k <= k1; k += 1.0) {
      if (bands.forward_s > 0.0) {
        const double s = bands.forward_start_s + k * c;
        svg += fmt::format(
            "<polygon points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\" fill=\"#2b7bba\" "
            "fill-opacity=\"0.18\"/>\n",
            X(s), Y(0), X(s + bands.forward_s), Y(0), X(s + bands.forward_s + travel_s), Y(length_m), X(s + travel_s),
            Y(length_m));
      }
      if (corridor.two_way() && bands.backward_s > 0.0) {
        const double back_s = corridor.signals[0].backward_stop_line_m / speed_m_s;
        const double s = bands.backward_start_s + k * c;
        svg += fmt::format(
            "<polygon points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\" fill=\"#e07b00\" "
            "fill-opacity=\"0.18\"/>\n",
            X(s), Y(length_m), X(s + bands.backward_s), Y(length_m), X(s + bands.backward_s + back_s), Y(0),
            X(s + back_s), Y(0));
      }
    }
  }
  // Vehicle trajectories (points at most one step apart; a gap means the
  // vehicle was inside a junction or off the corridor).
  auto draw = [&](const auto& trajectories, const char* colour) {
    for (const auto& [id, points] : trajectories) {
      std::string path;
      double last_t = -1e9;
      for (const auto& [t, d] : points) {
        if (t < t0_s - 5 || t > t1_s + 5) continue;
        path += fmt::format("{}{:.1f},{:.1f}", (t - last_t > 3.0 * record.step_s) ? " M" : " L", X(t), Y(d));
        last_t = t;
      }
      if (!path.empty())
        svg += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"0.8\"/>\n", path, colour);
    }
  };
  draw(record.forward_trajectories, "#1f4e79");
  draw(record.backward_trajectories, "#a04000");
  // Signal bars: forward state just below the stop line, backward just above.
  for (std::size_t i = 0; i < corridor.signals.size(); ++i) {
    const double y = Y(corridor.signals[i].forward_stop_line_m);
    auto bars = [&](const std::vector<char>& green, double dy) {
      std::size_t k = 0;
      while (k < green.size()) {
        std::size_t e = k;
        while (e < green.size() && green[e] == green[k]) ++e;
        // Entry k is the state SUMO drove the step from begin + k to begin + k + 1 with
        // (light switches due at a time take effect in the step that starts there).
        const double ta = record.begin_s + static_cast<double>(k) * record.step_s;
        const double tb = record.begin_s + static_cast<double>(e) * record.step_s;
        if (tb >= t0_s && ta <= t1_s)
          svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"4\" fill=\"{}\"/>\n", X(ta), y + dy,
                             X(tb) - X(ta), green[k] ? "#2ca02c" : "#d62728");
        k = e;
      }
    };
    if (i < record.forward_green.size()) bars(record.forward_green[i], 1.0);
    if (corridor.two_way() && i < record.backward_green.size()) bars(record.backward_green[i], -5.0);
  }
  svg += "</g>\n";
  for (const auto& s : corridor.signals)
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{} ({:.0f} m)</text>\n", left - 6,
                       Y(s.forward_stop_line_m) + 4, s.tls_id, s.forward_stop_line_m);
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\" fill=\"#1f4e79\">forward vehicles / band</text><text x=\"{}\" y=\"{}\" "
      "fill=\"#a04000\">backward vehicles / band</text>\n</svg>\n",
      left + plot_w - 380, 28, left + plot_w - 190, 28);
  std::ofstream out(file);
  out << svg;
  if (!out) fail(file.string(), "cannot write the diagram");
}

}  // namespace cadereau::sim::traffic
