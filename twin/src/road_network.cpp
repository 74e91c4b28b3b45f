#include "cadereau/twin/road_network.h"

#include "cadereau/twin/error.h"
#include "xml_where.h"

#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string_view>
#include <system_error>

namespace cadereau::twin {

double TrafficLight::cycle_s() const {
  double total_s = 0.0;
  for (const auto& phase : phases) total_s += phase.duration_s;
  return total_s;
}

namespace {

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

// std::from_chars, because it is locale-independent (a French locale must not
// turn "13.89" into 13) and tells us when the whole token was not a number.
bool to_double(std::string_view text, double& value) {
  text = trim(text);
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(value);
}

bool to_int(std::string_view text, int& value) {
  text = trim(text);
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

struct NetParts {
  NetLocation location;
  std::vector<Edge> edges;
  std::vector<Junction> junctions;
  std::vector<TrafficLight> traffic_lights;
  std::vector<std::pair<std::string, std::string>> light_from_edges;  // (tls id, edge entering under its control)
};

// Reads one .net.xml. Keeps the raw text so that errors found after parsing can
// still name the line of the offending element (pugixml's offset_debug()).
class NetParser {
 public:
  explicit NetParser(const std::filesystem::path& path) : path_(path), file_(path.string()) {}

  NetParts parse() {
    read_file();
    const pugi::xml_parse_result result =
        doc_.load_buffer(text_.data(), text_.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!result) {
      fail(where_at(static_cast<std::size_t>(std::max<std::ptrdiff_t>(result.offset, 0))),
           "not a valid SUMO network: XML error: {}", result.description());
    }
    const pugi::xml_node net = doc_.document_element();
    if (std::strcmp(net.name(), "net") != 0) {
      fail(where(net), "not a SUMO network: the root element is <{}>, expected <net>", net.name());
    }

    NetParts parts;
    const pugi::xml_node location = net.child("location");
    if (!location) fail(file_, "not a SUMO network: no <location> element");
    parts.location = parse_location(location);

    for (const pugi::xml_node node : net.children()) {
      const std::string_view name = node.name();
      if (name == "edge") {
        if (std::string_view(node.attribute("function").value()) == "internal") continue;
        parts.edges.push_back(parse_edge(node, parts.location));
      } else if (name == "junction") {
        if (std::string_view(node.attribute("type").value()) == "internal") continue;
        parts.junctions.push_back(parse_junction(node, parts.location));
      } else if (name == "tlLogic") {
        parts.traffic_lights.push_back(parse_tls(node));
      } else if (name == "connection" && *node.attribute("tl").value()) {
        parts.light_from_edges.emplace_back(node.attribute("tl").value(), node.attribute("from").value());
      }
    }
    if (parts.edges.empty()) fail(file_, "the network has no edges (internal edges aside)");
    return parts;
  }

 private:
  void read_file() {
    std::error_code ec;
    if (!std::filesystem::exists(path_, ec)) fail_as(ErrorCategory::not_found, file_, "SUMO network file not found");
    if (!std::filesystem::is_regular_file(path_, ec)) fail(file_, "the SUMO network is not a regular file");
    std::ifstream in(path_, std::ios::binary);
    if (!in) fail(file_, "cannot open the SUMO network file");
    text_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) fail(file_, "cannot read the SUMO network file");
  }

  std::string where_at(std::size_t offset) const { return xml_where_at(file_, text_, offset); }
  std::string where(const pugi::xml_node& node) const { return xml_where(file_, text_, node); }

  // "edge 'AB'", "edge 'AB' lane 'AB_0'", "tlLogic 'B' <phase>": how an element
  // is named in messages, with its parent when that is what a reader searches for.
  static std::string label(const pugi::xml_node& node) {
    const char* id = node.attribute("id").value();
    std::string own = *id ? fmt::format("{} '{}'", node.name(), id) : fmt::format("<{}>", node.name());
    const pugi::xml_node parent = node.parent();
    if (parent && parent.type() == pugi::node_element && std::strcmp(parent.name(), "net") != 0 &&
        *parent.attribute("id").value()) {
      return fmt::format("{} '{}' {}", parent.name(), parent.attribute("id").value(), own);
    }
    return own;
  }

  const char* required(const pugi::xml_node& node, const char* attribute) const {
    const pugi::xml_attribute attr = node.attribute(attribute);
    if (!attr) fail(where(node), "{} has no '{}' attribute", label(node), attribute);
    return attr.value();
  }

  double number(const pugi::xml_node& node, const char* attribute) const {
    const char* text = required(node, attribute);
    double value = 0.0;
    if (!to_double(text, value)) fail(where(node), "{}: attribute '{}' is not a number: \"{}\"", label(node), attribute, text);
    return value;
  }
  double number_or(const pugi::xml_node& node, const char* attribute, double fallback) const {
    return node.attribute(attribute) ? number(node, attribute) : fallback;
  }
  int integer_or(const pugi::xml_node& node, const char* attribute, int fallback) const {
    const pugi::xml_attribute attr = node.attribute(attribute);
    if (!attr) return fallback;
    int value = 0;
    if (!to_int(attr.value(), value))
      fail(where(node), "{}: attribute '{}' is not an integer: \"{}\"", label(node), attribute, attr.value());
    return value;
  }

  // "x,y x,y ..." (a third, z, component is allowed and dropped) into map coordinates.
  std::vector<MapPoint> points(const pugi::xml_node& node, const char* attribute, const NetLocation& location) const {
    const std::string_view text = node.attribute(attribute).value();
    std::vector<MapPoint> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const auto start = text.find_first_not_of(" \t\r\n", pos);
      if (start == std::string_view::npos) break;
      auto end = text.find_first_of(" \t\r\n", start);
      if (end == std::string_view::npos) end = text.size();
      const std::string_view token = text.substr(start, end - start);
      pos = end;

      double xyz[3] = {0.0, 0.0, 0.0};
      int count = 0;
      std::size_t field_start = 0;
      bool ok = true;
      while (ok) {
        const auto comma = token.find(',', field_start);
        const std::string_view field =
            token.substr(field_start, comma == std::string_view::npos ? std::string_view::npos : comma - field_start);
        ok = count < 3 && to_double(field, xyz[count]);
        ++count;
        if (comma == std::string_view::npos) break;
        field_start = comma + 1;
      }
      if (!ok || count < 2) {
        fail(where(node), "{}: attribute '{}' has a malformed point \"{}\" (expected x,y)", label(node), attribute,
             token);
      }
      out.push_back(location.to_map(xyz[0], xyz[1]));
    }
    return out;
  }

  Box boundary(const pugi::xml_node& node, const char* attribute) const {
    const pugi::xml_attribute attr = node.attribute(attribute);
    if (!attr) return Box::empty_box();
    double v[4];
    std::string_view text = attr.value();
    for (int i = 0; i < 4; ++i) {
      const auto comma = text.find(',');
      const bool last = i == 3;
      if ((comma == std::string_view::npos) != last || !to_double(text.substr(0, comma), v[i]))
        fail(where(node), "<location>: attribute '{}' is not \"xmin,ymin,xmax,ymax\": \"{}\"", attribute, attr.value());
      if (!last) text.remove_prefix(comma + 1);
    }
    return {v[0], v[1], v[2], v[3]};
  }

  NetLocation parse_location(const pugi::xml_node& node) const {
    NetLocation location;
    const std::string_view offset = required(node, "netOffset");
    const auto comma = offset.find(',');
    if (comma == std::string_view::npos || !to_double(offset.substr(0, comma), location.offset_x_m) ||
        !to_double(offset.substr(comma + 1), location.offset_y_m)) {
      fail(where(node), "<location>: attribute 'netOffset' is not \"x,y\": \"{}\"", offset);
    }
    location.converted_boundary = boundary(node, "convBoundary");
    location.original_boundary = boundary(node, "origBoundary");
    location.proj_parameter = node.attribute("projParameter").as_string("!");
    return location;
  }

  Edge parse_edge(const pugi::xml_node& node, const NetLocation& location) const {
    Edge edge;
    edge.id = required(node, "id");
    edge.name = node.attribute("name").value();
    edge.from_junction = node.attribute("from").value();
    edge.to_junction = node.attribute("to").value();
    edge.type = node.attribute("type").value();
    edge.priority = integer_or(node, "priority", 0);
    for (const pugi::xml_node lane_node : node.children("lane")) {
      Lane lane;
      lane.id = required(lane_node, "id");
      lane.index = integer_or(lane_node, "index", static_cast<int>(edge.lanes.size()));
      lane.speed_m_s = number(lane_node, "speed");
      lane.length_m = number(lane_node, "length");
      lane.width_m = number_or(lane_node, "width", lane.width_m);
      required(lane_node, "shape");
      lane.shape = points(lane_node, "shape", location);
      if (lane.shape.size() < 2) fail(where(lane_node), "{}: its shape has fewer than two points", label(lane_node));
      edge.lanes.push_back(std::move(lane));
    }
    if (edge.lanes.empty()) fail(where(node), "{} has no lanes", label(node));
    std::sort(edge.lanes.begin(), edge.lanes.end(), [](const Lane& a, const Lane& b) { return a.index < b.index; });

    if (node.attribute("shape")) {
      edge.shape = points(node, "shape", location);
      if (edge.shape.size() < 2) fail(where(node), "{}: its shape has fewer than two points", label(node));
    } else {
      edge.shape = centre_line(edge.lanes);
    }
    return edge;
  }

  // SUMO writes an edge shape only when one was given on input. Otherwise the
  // centre of the carriageway is the middle lane (odd lane count) or the
  // pointwise mean of the two middle lanes (even count): SUMO offsets every lane
  // from the same edge line, so those two have the same vertex count. When they
  // do not, the lane just right of the centre (index n/2 - 1) stands in.
  static Polyline centre_line(const std::vector<Lane>& lanes) {
    const std::size_t n = lanes.size();
    if (n % 2 == 1) return lanes[n / 2].shape;
    const Polyline& right = lanes[n / 2 - 1].shape;
    const Polyline& left = lanes[n / 2].shape;
    if (right.size() != left.size()) return right;
    Polyline centre(right.size());
    for (std::size_t i = 0; i < right.size(); ++i)
      centre[i] = {0.5 * (right[i].x_m + left[i].x_m), 0.5 * (right[i].y_m + left[i].y_m)};
    return centre;
  }

  Junction parse_junction(const pugi::xml_node& node, const NetLocation& location) const {
    Junction junction;
    junction.id = required(node, "id");
    junction.type = node.attribute("type").value();
    junction.position = location.to_map(number(node, "x"), number(node, "y"));
    junction.shape = points(node, "shape", location);
    // SUMO closes junction rings explicitly; Ring is closed implicitly.
    if (junction.shape.size() > 1 && junction.shape.front() == junction.shape.back()) junction.shape.pop_back();
    return junction;
  }

  TrafficLight parse_tls(const pugi::xml_node& node) const {
    TrafficLight tls;
    tls.id = required(node, "id");
    tls.type = node.attribute("type").value();
    tls.program_id = node.attribute("programID").value();
    tls.offset_s = number_or(node, "offset", 0.0);
    for (const pugi::xml_node phase_node : node.children("phase")) {
      TlsPhase phase;
      phase.duration_s = number(phase_node, "duration");
      if (phase.duration_s < 0.0)
        fail(where(phase_node), "{}: a phase has a negative duration ({} s)", label(node), phase.duration_s);
      phase.state = required(phase_node, "state");
      tls.phases.push_back(std::move(phase));
    }
    return tls;
  }

  std::filesystem::path path_;
  std::string file_;
  std::string text_;
  pugi::xml_document doc_;
};

}  // namespace

RoadNetwork RoadNetwork::load(const std::filesystem::path& net_xml) {
  NetParts parts = NetParser(net_xml).parse();
  RoadNetwork network;
  network.location_ = std::move(parts.location);
  network.edges_ = std::move(parts.edges);
  network.junctions_ = std::move(parts.junctions);
  network.traffic_lights_ = std::move(parts.traffic_lights);

  const std::string file = net_xml.string();
  for (std::size_t i = 0; i < network.edges_.size(); ++i) {
    if (!network.edge_by_id_.emplace(network.edges_[i].id, i).second)
      fail(file, "edge '{}' is defined twice", network.edges_[i].id);
  }
  for (std::size_t i = 0; i < network.junctions_.size(); ++i) {
    if (!network.junction_by_id_.emplace(network.junctions_[i].id, i).second)
      fail(file, "junction '{}' is defined twice", network.junctions_[i].id);
  }
  // A light may carry several programs (one tlLogic per programID); lookup by id
  // gives the first, which is the one SUMO starts with.
  for (std::size_t i = 0; i < network.traffic_lights_.size(); ++i)
    network.tls_by_id_.emplace(network.traffic_lights_[i].id, i);
  // A light's junctions: where the edges it controls end (several when
  // netconvert joined the lights of a cluster into one).
  for (const auto& [tls_id, from_edge] : parts.light_from_edges) {
    const Edge* e = network.find_edge(from_edge);
    if (!e) continue;
    auto& junctions = network.light_junctions_[tls_id];
    if (std::find(junctions.begin(), junctions.end(), e->to_junction) == junctions.end())
      junctions.push_back(e->to_junction);
  }
  return network;
}

const Edge* RoadNetwork::find_edge(const std::string& id) const {
  const auto it = edge_by_id_.find(id);
  return it == edge_by_id_.end() ? nullptr : &edges_[it->second];
}

std::optional<std::size_t> RoadNetwork::edge_index(const std::string& id) const {
  const auto it = edge_by_id_.find(id);
  if (it == edge_by_id_.end()) return std::nullopt;
  return it->second;
}

const Junction* RoadNetwork::find_junction(const std::string& id) const {
  const auto it = junction_by_id_.find(id);
  return it == junction_by_id_.end() ? nullptr : &junctions_[it->second];
}

const TrafficLight* RoadNetwork::find_traffic_light(const std::string& id) const {
  const auto it = tls_by_id_.find(id);
  return it == tls_by_id_.end() ? nullptr : &traffic_lights_[it->second];
}

std::vector<std::string> RoadNetwork::light_programs(const std::string& tls_id) const {
  std::vector<std::string> out;
  for (const auto& t : traffic_lights_)
    if (t.id == tls_id) out.push_back(t.program_id);
  return out;
}

const std::vector<std::string>& RoadNetwork::light_junctions(const std::string& tls_id) const {
  static const std::vector<std::string> none;
  const auto it = light_junctions_.find(tls_id);
  return it == light_junctions_.end() ? none : it->second;
}

Box RoadNetwork::bounds() const {
  Box box = Box::empty_box();
  for (const auto& edge : edges_)
    for (const auto& lane : edge.lanes)
      for (const auto& p : lane.shape) box.expand(p);
  for (const auto& junction : junctions_) {
    box.expand(junction.position);
    for (const auto& p : junction.shape) box.expand(p);
  }
  return box;
}

double RoadNetwork::total_length_m() const {
  double total_m = 0.0;
  for (const auto& edge : edges_) total_m += edge.length_m();
  return total_m;
}

}  // namespace cadereau::twin
