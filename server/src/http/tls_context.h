#pragma once
// The server's TLS context: TLS 1.2 or newer only, a PEM certificate chain
// and private key.

#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <memory>

namespace cadereau::server::http {

// Throws Error (bad_input) naming the file that cannot be read or used.
std::unique_ptr<boost::asio::ssl::context> make_tls_context(const std::filesystem::path& certificate_file,
                                                            const std::filesystem::path& key_file);

}  // namespace cadereau::server::http
