#include "cadereau/twin/route_file.h"

#include "cadereau/twin/error.h"
#include "xml_where.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string_view>

namespace cadereau::twin {

namespace {

class RouteChecker {
 public:
  RouteChecker(const std::filesystem::path& file, const RoadNetwork* network)
      : file_(file.string()), network_(network) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) fail_as(ErrorCategory::not_found, file_, "route file not found");
    if (!std::filesystem::is_regular_file(file, ec)) fail(file_, "the route file is not a regular file");
    std::ifstream in(file, std::ios::binary);
    if (!in) fail(file_, "cannot open the route file");
    text_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) fail(file_, "cannot read the route file");
  }

  RouteFileSummary check() {
    if (text_.find_first_not_of(" \t\r\n") == std::string::npos)
      fail(file_, "the route file is empty (not even a <routes> element)");
    const pugi::xml_parse_result result =
        doc_.load_buffer(text_.data(), text_.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!result) {
      const auto offset = static_cast<std::size_t>(std::max<std::ptrdiff_t>(result.offset, 0));
      // A file cut short fails at its very end, or ends other than with a tag.
      const auto last = text_.find_last_not_of(" \t\r\n");
      const bool at_end = text_.find_first_not_of(" \t\r\n", std::min(offset, text_.size())) == std::string::npos ||
                          last == std::string::npos || text_[last] != '>';
      fail(where_at(offset), "not a valid SUMO route file: XML error: {}{}", result.description(),
           at_end ? " at the end of the file (truncated?)" : "");
    }
    const pugi::xml_node root = doc_.document_element();
    if (std::strcmp(root.name(), "routes") != 0)
      fail(where(root), "not a SUMO route file: the root element is <{}>, expected <routes>", root.name());
    visit(root);
    return summary_;
  }

 private:
  void visit(const pugi::xml_node& parent) {
    for (const pugi::xml_node node : parent.children()) {
      if (node.type() != pugi::node_element) continue;
      const std::string_view name = node.name();
      if (name == "vehicle") ++summary_.vehicles;
      if (name == "trip") ++summary_.trips;
      if (name == "flow") ++summary_.flows;
      if (name == "person" || name == "personFlow") ++summary_.persons;
      if (network_) {
        if (name == "route") require_edges(node, node.attribute("edges").value(), "edges");
        if (name == "trip" || name == "flow") {
          for (const char* attribute : {"from", "to", "via"})
            require_edges(node, node.attribute(attribute).value(), attribute);
        }
      }
      visit(node);
    }
  }

  // Every edge id in a space-separated list must be in the network.
  void require_edges(const pugi::xml_node& node, std::string_view list, const char* attribute) {
    std::size_t pos = 0;
    while (pos < list.size()) {
      const auto start = list.find_first_not_of(" \t\r\n", pos);
      if (start == std::string_view::npos) break;
      auto end = list.find_first_of(" \t\r\n", start);
      if (end == std::string_view::npos) end = list.size();
      const std::string edge(list.substr(start, end - start));
      pos = end;
      if (network_->find_edge(edge)) continue;
      fail(where(node), "{} names edge '{}' ({}), which the network does not have: a demand written for another "
           "network?", label(node), edge, attribute);
    }
  }

  // "vehicle 't42'", or "route 'r1'", or "route of vehicle 't42'".
  static std::string label(const pugi::xml_node& node) {
    const char* id = node.attribute("id").value();
    if (*id) return fmt::format("{} '{}'", node.name(), id);
    const pugi::xml_node parent = node.parent();
    if (parent && parent.type() == pugi::node_element && *parent.attribute("id").value())
      return fmt::format("the {} of {} '{}'", node.name(), parent.name(), parent.attribute("id").value());
    return fmt::format("a <{}>", node.name());
  }

  std::string where_at(std::size_t offset) const { return xml_where_at(file_, text_, offset); }
  std::string where(const pugi::xml_node& node) const { return xml_where(file_, text_, node); }

  std::string file_;
  const RoadNetwork* network_;
  std::string text_;
  pugi::xml_document doc_;
  RouteFileSummary summary_;
};

}  // namespace

RouteFileSummary check_route_file(const std::filesystem::path& file, const RoadNetwork* network) {
  return RouteChecker(file, network).check();
}

}  // namespace cadereau::twin
