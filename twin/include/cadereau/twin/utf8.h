#pragma once
// Text files users write (scenarios, territory manifests, MSELs) must be
// UTF-8: their names end up in JSON, HDF5 attributes and web pages, which
// refuse anything else at the very end of a run. Checked when read.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cadereau::twin {

// The byte offset of the first byte that does not start or continue a
// well-formed UTF-8 sequence (overlong forms, surrogates and code points past
// U+10FFFF included); nothing for valid UTF-8.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

// Throws Error "FILE:LINE: ..." at the first invalid byte, naming it and its
// column, and saying how to fix it (save the file as UTF-8).
void require_utf8(std::string_view text, const std::string& file);

}  // namespace cadereau::twin
