#pragma once
// Text placed inside XML attributes and elements (SUMO additional files, SVG).

#include <string>

namespace cadereau::sim::traffic {

inline std::string xml_escaped(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace cadereau::sim::traffic
