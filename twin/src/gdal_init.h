#pragma once
// GDAL's driver registry is global; every entry point in twin calls this first.

#include <string>

namespace cadereau::twin::detail {

// Registers GDAL/OGR drivers once and routes GDAL's messages to the logger
// rather than stderr, so errors surface as exceptions with context.
void ensure_gdal();
// The text of GDAL's last error, or "" when none.
const char* gdal_last_error();
// A fresh name for a file in GDAL's memory ("/vsimem/cadereau-KIND-N.EXT").
std::string vsimem_name(const char* kind, const char* ext);
// The bytes of that memory file, which is removed (with any .aux.xml GDAL
// wrote beside it). Throws Error naming `where` when there is no such file.
std::string take_vsimem_file(const std::string& name, const std::string& where);

}  // namespace cadereau::twin::detail
