#include "cadereau/twin/utf8.h"

#include "cadereau/twin/error.h"

#include <algorithm>

namespace cadereau::twin {

std::optional<std::size_t> first_invalid_utf8(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = byte(i);
    if (c < 0x80) {
      ++i;
      continue;
    }
    // Length and the range of the second byte (Unicode 15, table 3-7).
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + n > text.size()) return i;
    if (byte(i + 1) < lo || byte(i + 1) > hi) return i;
    for (std::size_t k = 2; k < n; ++k)
      if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return i;
    i += n;
  }
  return std::nullopt;
}

void require_utf8(std::string_view text, const std::string& file) {
  const auto bad = first_invalid_utf8(text);
  if (!bad) return;
  const auto line_start = text.rfind('\n', *bad == 0 ? 0 : *bad - 1);
  const std::size_t column = line_start == std::string_view::npos || *bad == 0 ? *bad + 1 : *bad - line_start;
  const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(*bad), '\n');
  fail(fmt::format("{}:{}", file, line),
       "byte 0x{:02X} at column {} is not UTF-8 (a Latin-1 or Windows-1252 file?): save the file as UTF-8 "
       "(e.g. iconv -f latin1 -t utf-8)",
       static_cast<unsigned char>(text[*bad]), column);
}

}  // namespace cadereau::twin
