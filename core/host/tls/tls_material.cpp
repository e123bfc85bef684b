#include "host/tls/tls_material.hpp"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "runtime/crypto.hpp"

namespace vespid::tls {

namespace {

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("tls: " + what + ": " + openssl_error());
}

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

void add_ext(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) fail("building certificate extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

void generate(const std::string& cert_file, const std::string& key_file) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  if (!key) fail("generating an EC P-256 key");
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  std::string serial = crypto::random_bytes(16);
  serial[0] = static_cast<char>(serial[0] & 0x7f);  // positive
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()), 16, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 3650);
  X509_set_pubkey(cert.get(), key.get());
  std::string host = host_name();
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Vespid Gateway"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(host.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san = "DNS:" + host + ",DNS:localhost,IP:127.0.0.1,IP:::1";
  add_ext(cert.get(), NID_subject_alt_name, san);
  add_ext(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(cert.get(), NID_ext_key_usage, "serverAuth");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) fail("signing the certificate");

  std::filesystem::create_directories(std::filesystem::path(key_file).parent_path());
  std::filesystem::create_directories(std::filesystem::path(cert_file).parent_path());
  // The key is created 0600 from its first byte; written to a temporary name and renamed so a
  // crash never leaves half a key behind.
  std::string key_tmp = key_file + ".tmp";
  mode_t old = ::umask(0077);
  File kf(std::fopen(key_tmp.c_str(), "w"));
  ::umask(old);
  if (!kf) throw std::runtime_error("tls: cannot write " + key_tmp);
  if (!PEM_write_PrivateKey(kf.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr))
    fail("writing " + key_tmp);
  kf.reset();
  std::string cert_tmp = cert_file + ".tmp";
  File cf(std::fopen(cert_tmp.c_str(), "w"));
  if (!cf) throw std::runtime_error("tls: cannot write " + cert_tmp);
  if (!PEM_write_X509(cf.get(), cert.get())) fail("writing " + cert_tmp);
  cf.reset();
  std::filesystem::rename(key_tmp, key_file);
  std::filesystem::rename(cert_tmp, cert_file);
}

}  // namespace

std::string default_cert_path(const std::string& state_dir) {
  return state_dir + "/tls/gateway.crt";
}
std::string default_key_path(const std::string& state_dir) {
  return state_dir + "/tls/gateway.key";
}

Material ensure(const std::string& cert_file, const std::string& key_file, bool may_generate) {
  Material m{cert_file, key_file, false};
  bool have_cert = std::filesystem::exists(cert_file);
  bool have_key = std::filesystem::exists(key_file);
  if (have_cert && have_key) return m;
  if (!may_generate) {
    throw std::runtime_error("tls: " + (have_cert ? key_file : cert_file) +
                             " does not exist (tls.generate is off)");
  }
  if (have_cert != have_key) {
    throw std::runtime_error("tls: found " + (have_cert ? cert_file : key_file) + " but not " +
                             (have_cert ? key_file : cert_file) +
                             "; remove the lone file or supply both");
  }
  generate(cert_file, key_file);
  m.generated = true;
  return m;
}

std::string fingerprint_sha256(const std::string& cert_file) {
  File f(std::fopen(cert_file.c_str(), "r"));
  if (!f) throw std::runtime_error("tls: cannot read " + cert_file);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_X509(f.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) fail("reading a certificate from " + cert_file);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!X509_digest(cert.get(), EVP_sha256(), md, &len)) fail("hashing " + cert_file);
  return crypto::hex(std::string(reinterpret_cast<const char*>(md), len));
}

}  // namespace vespid::tls
