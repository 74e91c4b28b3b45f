#pragma once
// Reads every frame, keyframe and time series of an open recording whole,
// so that HDF5 checks its checksums and filters on each chunk, and checks
// what the layout promises: as many times as rows, times that never go
// back, finite values, keyframes that point at recorded events. Private to
// twin: RecordingReader::check_datasets() calls it.

#include "cadereau/twin/recording.h"

#include <hdf5.h>

#include <cstdint>
#include <string>

namespace cadereau::twin {

DatasetCheck check_recording_datasets(hid_t file, const std::string& where, std::uint64_t event_rows);

}  // namespace cadereau::twin
