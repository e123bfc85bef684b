// The gateway's TLS certificate and key: configured files, or a self-signed certificate
// generated once into the state directory. Nodes pin its SHA-256 fingerprint (lowercase hex of
// the DER), which `vespid-gateway tls fingerprint` prints and Bonjour TXT records carry.
#pragma once

#include <string>

namespace vespid::tls {

struct Material {
  std::string cert_file;
  std::string key_file;
  bool generated = false;  // made just now
};

// Where the generated pair lives inside a state directory.
std::string default_cert_path(const std::string& state_dir);
std::string default_key_path(const std::string& state_dir);

// Makes sure the pair exists: returns it as configured, or generates an ECDSA P-256 self-signed
// certificate (10 years; subject CN and SANs for the host name, localhost, 127.0.0.1, ::1) with
// the key written 0600. Throws std::runtime_error naming the file on failure.
Material ensure(const std::string& cert_file, const std::string& key_file, bool may_generate);

// SHA-256 of the certificate's DER encoding, lowercase hex without separators.
std::string fingerprint_sha256(const std::string& cert_file);

}  // namespace vespid::tls
