#pragma once
// GDAL's driver registry is global; every entry point in twin calls this first.

namespace cadereau::twin::detail {

// Registers GDAL/OGR drivers once and routes GDAL's messages to the logger
// rather than stderr, so errors surface as exceptions with context.
void ensure_gdal();
// The text of GDAL's last error, or "" when none.
const char* gdal_last_error();

}  // namespace cadereau::twin::detail
