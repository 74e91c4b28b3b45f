// The time-space diagram planners read light plans in: time of day across,
// distance along the corridor up; each light two bars on its stop line
// (through green or red, forward below the line, backward above it), the
// analytic progression bands as translucent parallelograms, simulated
// vehicles as lines, and a legend saying which is which.

#include "cadereau/sim/traffic/demand_window.h"
#include "cadereau/sim/traffic/greenwave.h"
#include "cadereau/twin/error.h"

#include "xml_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>

namespace cadereau::sim::traffic {

namespace {

constexpr double kFontPx = 12.0;
// Mean advance of a character of 12 px sans-serif, generous, to keep labels
// inside the picture without measuring text.
constexpr double kCharPx = 6.6;

// Characters, not bytes: street names are UTF-8.
double text_width_px(const std::string& text) {
  const auto chars = std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
  return static_cast<double>(chars) * kCharPx;
}

std::string light_label(const CorridorSignal& s) {
  std::string cross;
  for (const auto& c : s.cross_streets) cross += (cross.empty() ? "" : " / ") + c;
  return cross.empty() ? fmt::format("{} · {:.0f} m", s.tls_id, s.forward_stop_line_m)
                       : fmt::format("{} · {} · {:.0f} m", s.tls_id, cross, s.forward_stop_line_m);
}

// hh:mm, or hh:mm:ss when ticks fall within minutes.
std::string tick_label(double t_s, double tick_s) {
  const std::string full = clock_time(t_s);
  return std::fmod(tick_s, 60.0) == 0.0 ? full.substr(0, full.size() - 3) : full;
}

double tick_step_s(double span_s) {
  constexpr std::array<double, 9> kSteps = {30, 60, 120, 300, 600, 900, 1800, 3600, 7200};
  for (double s : kSteps)
    if (span_s / s <= 12.0) return s;
  return kSteps.back();
}

struct Layout {
  double width_px = 1400, height_px = 760;
  double left = 0, right = 0, top = 78, bottom = 56;
  double legend_x = 0;
  double plot_w() const { return width_px - left - right; }
  double plot_h() const { return height_px - top - bottom; }
};

// bands: the analytic band widths, none when the lights share no cycle.
std::string legend(const Layout& l, const Corridor& corridor, double speed_m_s, const std::optional<Bandwidth>& bands) {
  const std::string first = corridor.signals.front().tls_id, last = corridor.signals.back().tls_id;
  const double x = l.legend_x, sw = 22;
  double y = l.top + 6;
  std::string svg = fmt::format("<g font-size=\"{}\">\n<text x=\"{}\" y=\"{}\" font-weight=\"bold\">Legend</text>\n", kFontPx,
                                x, y);
  auto entry = [&](const std::string& swatch, const std::string& text) {
    y += 22;
    svg += swatch;
    svg += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", x + sw + 8, y + 4, xml_escaped(text));
  };
  auto bar = [&](const char* colour) {
    return fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"5\" fill=\"{}\"/>\n", x, y + 22 - 3, sw, colour);
  };
  auto band = [&](const char* colour) {
    return fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"12\" fill=\"{}\" fill-opacity=\"0.25\"/>\n", x,
                       y + 22 - 6, sw, colour);
  };
  auto line = [&](const char* colour) {
    return fmt::format("<line x1=\"{0}\" y1=\"{2}\" x2=\"{1}\" y2=\"{3}\" stroke=\"{4}\" stroke-width=\"1.5\"/>\n", x,
                       x + sw, y + 22 + 5, y + 22 - 5, colour);
  };
  entry(bar("#2ca02c"), "through movement green");
  entry(bar("#d62728"), "through movement red");
  y += 8;
  svg += fmt::format("<text x=\"{}\" y=\"{}\">Two bars at each light:</text>\n", x, y + 22);
  y += 20;
  svg += fmt::format("<text x=\"{}\" y=\"{}\">below its line, forward</text>\n", x + 10, y + 20);
  svg += fmt::format("<text x=\"{}\" y=\"{}\">({} to {});</text>\n", x + 10, y + 36, xml_escaped(first), xml_escaped(last));
  y += 36;
  if (corridor.two_way()) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\">above it, backward</text>\n", x + 10, y + 20);
    svg += fmt::format("<text x=\"{}\" y=\"{}\">({} to {})</text>\n", x + 10, y + 36, xml_escaped(last), xml_escaped(first));
    y += 36;
  }
  y += 8;
  auto width = [&](double band_s) { return bands ? fmt::format("{:.1f} s", band_s) : std::string("none: no common cycle"); };
  entry(band("#2b7bba"), fmt::format("forward green band at {:.0f} km/h,", speed_m_s * 3.6));
  svg += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", x + sw + 8, y + 20, width(bands ? bands->forward_s : 0.0));
  y += 16;
  if (corridor.two_way()) {
    entry(band("#e07b00"), fmt::format("backward green band at {:.0f} km/h,", speed_m_s * 3.6));
    svg += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", x + sw + 8, y + 20, width(bands ? bands->backward_s : 0.0));
    y += 16;
  }
  entry(line("#1f4e79"), "a vehicle driving forward");
  if (corridor.two_way()) entry(line("#a04000"), "a vehicle driving backward");
  svg += "</g>\n";
  return svg;
}

}  // namespace

std::pair<double, double> busiest_window(const CorridorRecord& record, double window_s, double from_s, double to_s) {
  const double begin_s = std::max(record.begin_s, from_s);
  const double end_s = std::max(std::min(record.end_s, to_s), begin_s);
  if (end_s - begin_s <= window_s) return {begin_s, end_s};
  // Vehicle positions per second of the run, then the window with most of
  // them, starting on a whole minute.
  const auto seconds = static_cast<std::size_t>(std::ceil(end_s - begin_s)) + 1;
  std::vector<long> prefix(seconds + 1, 0);
  auto count = [&](const auto& trajectories) {
    for (const auto& [id, points] : trajectories)
      for (const auto& [t, d] : points) {
        const double k = std::floor(static_cast<double>(t) - begin_s);
        if (k >= 0.0 && k < static_cast<double>(seconds)) ++prefix[static_cast<std::size_t>(k) + 1];
      }
  };
  count(record.forward_trajectories);
  count(record.backward_trajectories);
  for (std::size_t k = 1; k < prefix.size(); ++k) prefix[k] += prefix[k - 1];
  auto at = [&](double t) {
    const double k = std::clamp(std::floor(t - begin_s), 0.0, static_cast<double>(seconds));
    return prefix[static_cast<std::size_t>(k)];
  };
  double best_t = begin_s;
  long best = -1;
  for (double t = std::ceil(begin_s / 60.0) * 60.0; t + window_s <= end_s + 1e-9; t += 60.0) {
    const long n = at(t + window_s) - at(t);
    if (n > best) {
      best = n;
      best_t = t;
    }
  }
  return {best_t, best_t + window_s};
}

void write_time_space_svg(const std::filesystem::path& file, const TimeSpaceView& view, const Corridor& corridor,
                          const CorridorRecord& record, const std::optional<BandwidthProblem>& problem,
                          const std::vector<double>& offsets_s) {
  if (corridor.signals.empty()) fail(file.string(), "no light to draw");
  const double t0_s = view.t0_s;
  const double t1_s = view.t1_s > view.t0_s ? view.t1_s : view.t0_s + 1.0;
  const double speed_m_s = view.speed_m_s;
  Layout l;
  double label_w = 0.0;
  for (const auto& s : corridor.signals) label_w = std::max(label_w, text_width_px(light_label(s)));
  l.left = 40.0 + label_w + 10.0;  // axis title, labels, a gap
  l.right = 290.0;                 // the legend
  l.legend_x = l.width_px - l.right + 24.0;
  const double plot_w = l.plot_w(), plot_h = l.plot_h(), left = l.left, top = l.top;
  const double length_m = corridor.length_m();
  const double y_min = -60.0, y_max = length_m + 60.0;
  auto X = [&](double t) { return left + (t - t0_s) / (t1_s - t0_s) * plot_w; };
  auto Y = [&](double d) { return top + plot_h - (d - y_min) / (y_max - y_min) * plot_h; };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"{2}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{3}\" y=\"28\" font-size=\"17\">{4}</text>\n<text x=\"{3}\" y=\"52\" fill=\"#444\">{5}</text>\n",
      l.width_px, l.height_px, kFontPx, 16, xml_escaped(view.title), xml_escaped(view.subtitle));
  svg += fmt::format("<defs><clipPath id=\"plot\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath></defs>\n",
                     left, top, plot_w, plot_h);
  // Axes and grid: clock time across.
  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n", left, top,
                     plot_w, plot_h);
  const double tick_s = tick_step_s(t1_s - t0_s);
  for (double t = std::ceil(t0_s / tick_s) * tick_s; t <= t1_s + 1e-9; t += tick_s)
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/><text x=\"{0:.1f}\" y=\"{3}\" "
        "text-anchor=\"middle\">{4}</text>\n",
        X(t), top, top + plot_h, top + plot_h + 18, tick_label(t, tick_s));
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">time of day (hh:mm)</text>\n", left + plot_w / 2,
                     l.height_px - 12);
  svg += fmt::format("<text x=\"18\" y=\"{0}\" transform=\"rotate(-90 18 {0})\" text-anchor=\"middle\">distance along "
                     "{1} (m), lights at their stop lines</text>\n",
                     top + plot_h / 2, corridor.street.empty() ? "the corridor" : xml_escaped(corridor.street));
  for (const auto& s : corridor.signals)
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#eee\"/>\n", left,
                       Y(s.forward_stop_line_m), left + plot_w);

  svg += "<g clip-path=\"url(#plot)\">\n";
  // Progression bands, repeated every cycle.
  std::optional<Bandwidth> band_widths;
  if (problem && offsets_s.size() == corridor.signals.size()) {
    const auto bands = evaluate_bandwidth(*problem, offsets_s);
    band_widths = bands;
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
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 8,
                       Y(s.forward_stop_line_m) + 4, xml_escaped(light_label(s)));
  svg += legend(l, corridor, speed_m_s, band_widths);
  svg += "</svg>\n";
  std::ofstream out(file);
  out << svg;
  if (!out) fail(file.string(), "cannot write the diagram");
}

}  // namespace cadereau::sim::traffic
