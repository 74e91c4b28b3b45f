#pragma once
// Running the other programs Cadereau ships with (the 3D viewer) and tools
// found on PATH.

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace cadereau::server {

// The folder of the running executable.
std::filesystem::path own_directory();
// Runs a program and waits; returns its exit status (-1 when it could not start).
int run_program(const std::vector<std::string>& argv);
bool on_path(const std::string& program);

// The cadereau-viewer built beside this executable; empty when not found.
std::filesystem::path viewer_path();
// Renders a headless 3D snapshot of a territory with the viewer (under
// xvfb-run when there is no display), with the extra viewer options given.
// Returns the viewer's exit status; -1 when it could not run.
int render_snapshot(const std::filesystem::path& territory_dir, const std::filesystem::path& png,
                    const std::vector<std::string>& extra = {});

}  // namespace cadereau::server
