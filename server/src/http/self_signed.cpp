#include "self_signed.h"

#include "cadereau/twin/error.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

#include <cstdio>
#include <memory>

namespace cadereau::server::http {
namespace {

constexpr long kValidDays = 825;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Certificate = std::unique_ptr<X509, Deleter<X509, X509_free>>;

[[noreturn]] void fail_ssl(const std::string& where, const char* what) {
  char reason[256] = "no reason given";
  if (const unsigned long code = ERR_get_error()) ERR_error_string_n(code, reason, sizeof reason);
  fail_as(ErrorCategory::unavailable, where, "{}: {}", what, reason);
}

void add_extension(X509* certificate, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, certificate, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!extension || !X509_add_ext(certificate, extension, -1)) {
    X509_EXTENSION_free(extension);
    fail_ssl("certificate", "cannot add an extension");
  }
  X509_EXTENSION_free(extension);
}

// The PEM text `write` puts into a memory BIO.
template <typename Write>
std::string pem_text(const char* what, Write write) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio || write(bio) != 1) {
    BIO_free(bio);
    fail_ssl(what, "cannot write it as PEM");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return text;
}

}  // namespace

SelfSignedCertificate make_self_signed_certificate(const std::string& host) {
  Key key(EVP_EC_gen("P-256"));
  if (!key) fail_ssl("key", "cannot make a key");
  Certificate certificate(X509_new());
  if (!certificate) fail_ssl("certificate", "cannot make a certificate");
  X509_set_version(certificate.get(), 2);  // v3
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) fail_ssl("certificate", "no random serial number");
  serial[0] &= 0x7f;  // positive
  BIGNUM* number = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate.get()));
  BN_free(number);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);  // a clock a little behind still accepts it
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), kValidDays * 24 * 3600);
  X509_set_pubkey(certificate.get(), key.get());
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Cadereau"), -1, -1, 0);
  // A server listening on every address is reached by some name of its own: localhost stands in.
  const bool wildcard = host.empty() || host == "0.0.0.0" || host == "::";
  const std::string common_name = wildcard ? "localhost" : host;
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(certificate.get(), name);
  // Its own trust anchor: a client given this file verifies the server fully.
  add_extension(certificate.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(certificate.get(), NID_key_usage, "critical,digitalSignature,keyCertSign");
  add_extension(certificate.get(), NID_ext_key_usage, "serverAuth");
  add_extension(certificate.get(), NID_subject_key_identifier, "hash");
  std::string names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  const bool address = host.find(':') != std::string::npos || host.find_first_not_of("0123456789.") == std::string::npos;
  if (!wildcard && host != "localhost" && host != "127.0.0.1" && host != "::1")
    names = (address ? "IP:" : "DNS:") + host + "," + names;
  add_extension(certificate.get(), NID_subject_alt_name, names);
  if (!X509_sign(certificate.get(), key.get(), EVP_sha256())) fail_ssl("certificate", "cannot sign it");
  return {pem_text("certificate", [&](BIO* bio) { return PEM_write_bio_X509(bio, certificate.get()); }),
          pem_text("key", [&](BIO* bio) {
            return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
          })};
}

std::string certificate_fingerprint(const std::filesystem::path& certificate_file) {
  FILE* in = std::fopen(certificate_file.c_str(), "r");
  if (!in) fail(certificate_file.string(), "cannot read the certificate");
  Certificate certificate(PEM_read_X509(in, nullptr, nullptr, nullptr));
  std::fclose(in);
  if (!certificate) fail(certificate_file.string(), "not a PEM certificate");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!X509_digest(certificate.get(), EVP_sha256(), digest, &size)) fail_ssl(certificate_file.string(), "no fingerprint");
  std::string out;
  for (unsigned int k = 0; k < size; ++k) out += fmt::format("{}{:02X}", k ? ":" : "", digest[k]);
  return out;
}

}  // namespace cadereau::server::http
