#include "tls_context.h"

#include "cadereau/twin/error.h"

#include <openssl/ssl.h>

#include <boost/system/system_error.hpp>

namespace cadereau::server::http {

namespace ssl = boost::asio::ssl;

std::unique_ptr<ssl::context> make_tls_context(const std::filesystem::path& certificate_file,
                                               const std::filesystem::path& key_file) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  // The options above say what is off; this says what is on, should a
  // future OpenSSL add a protocol below 1.2 that they do not name.
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  try {
    context->use_certificate_chain_file(certificate_file.string());
  } catch (const boost::system::system_error& e) {
    fail(certificate_file.string(), "cannot use as a TLS certificate chain (PEM): {}", e.what());
  }
  try {
    context->use_private_key_file(key_file.string(), ssl::context::pem);
  } catch (const boost::system::system_error& e) {
    fail(key_file.string(), "cannot use as the TLS private key (PEM): {}", e.what());
  }
  return context;
}

}  // namespace cadereau::server::http
