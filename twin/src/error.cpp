#include "cadereau/twin/error.h"

namespace cadereau {

Error::Error(std::string where, std::string what)
    : std::runtime_error(where.empty() ? what : where + ": " + what), where_(std::move(where)), what_(std::move(what)) {}

}  // namespace cadereau
