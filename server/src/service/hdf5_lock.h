#pragma once
// Debian's HDF5 is built without thread safety, and the server reads
// recordings from several threads (HTTP handlers drawing water frames, the
// review reading a counterfactual run): every read in the server process
// holds this one lock. The workers write their recordings in processes of
// their own.

#include <mutex>

namespace cadereau::server::service {

inline std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace cadereau::server::service
