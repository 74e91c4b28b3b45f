#pragma once
// Where a node of an XML file read whole into `text` stands, as
// "FILE:LINE" for messages (pugixml gives byte offsets, not lines).

#include <pugixml.hpp>

#include <algorithm>
#include <cstddef>
#include <string>

#include <fmt/format.h>

namespace cadereau::twin {

inline std::string xml_where_at(const std::string& file, const std::string& text, std::size_t offset) {
  offset = std::min(offset, text.size());
  const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
  return fmt::format("{}:{}", file, line);
}

inline std::string xml_where(const std::string& file, const std::string& text, const pugi::xml_node& node) {
  const std::ptrdiff_t offset = node.offset_debug();
  return offset < 0 ? file : xml_where_at(file, text, static_cast<std::size_t>(offset));
}

}  // namespace cadereau::twin
