#pragma once
// A self-signed TLS certificate for a server that has none yet (the demo's
// first start): an ECDSA P-256 key and a certificate for `host` (a name or
// an address; a wildcard address stands for localhost), valid for
// localhost, 127.0.0.1 and ::1 too, for 825 days (what browsers accept).
// A browser warns once about who signed it; clients that are given the
// certificate file as their trust anchor verify it fully.

#include <filesystem>
#include <string>

namespace cadereau::server::http {

struct SelfSignedCertificate {
  std::string certificate_pem;
  std::string key_pem;  // private: keep it in a file only its owner reads
};

// Throws Error (unavailable) with OpenSSL's reason.
SelfSignedCertificate make_self_signed_certificate(const std::string& host = "localhost");

// The SHA-256 fingerprint of a PEM certificate, as "AB:CD:...", for the user
// to compare with what the browser shows. Throws Error (bad_input).
std::string certificate_fingerprint(const std::filesystem::path& certificate);

}  // namespace cadereau::server::http
