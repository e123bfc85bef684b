#include "options.hpp"

#include <mutex>
#include <vector>
#include <vespid/plugin.hpp>

namespace vespid::natsbus {
namespace {

void check(natsStatus s, const std::string& what) {
  if (s == NATS_OK) return;
  throw vsp::Error(s == NATS_NO_MEMORY ? VSP_E_NOMEM : VSP_E_INVALID,
                   "nats: " + what + ": " + nats_error(s));
}

}  // namespace

std::string nats_error(natsStatus s) {
  std::string out = natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  const char* raw = nats_GetLastError(&last);
  std::string detail = raw ? raw : "";
  // libnats prefixes its detail with where it was raised: "(conn.c:2088): ...".
  if (!detail.empty() && detail[0] == '(') {
    if (auto end = detail.find("): "); end != std::string::npos) detail.erase(0, end + 3);
  }
  if (!detail.empty() && detail != out) out += " (" + detail + ")";
  return out;
}

namespace {
std::mutex library_mu;  // nats_Open and nats_Close must not run concurrently
int library_users = 0;
// How long the last user waits for libnats's threads to end before it lets the exit go on.
constexpr int64_t kCloseWaitMs = 5000;
}  // namespace

LibraryUse::LibraryUse() {
  std::lock_guard lock(library_mu);
  if (library_users == 0) {
    // No spinning on libnats's locks (its default spins up to 2,000 pauses, tens of
    // microseconds, before it sleeps): with the gateway's threads on a few cores, the thread
    // that holds the lock is often waiting for the very core the spinner burns.
    const natsStatus status = nats_Open(0);
    if (status != NATS_OK) {
      throw vsp::Error(VSP_E_INTERNAL, "nats: the NATS client library did not initialise: " +
                                           std::string(natsStatus_GetText(status)));
    }
  }
  ++library_users;
}

LibraryUse::~LibraryUse() {
  std::lock_guard lock(library_mu);
  if (--library_users == 0) nats_CloseAndWait(kCloseWaitMs);
}

OptionsPtr make_options(const Config& cfg, const std::string& name) {
  natsOptions* raw = nullptr;
  check(natsOptions_Create(&raw), "cannot create connection options");
  OptionsPtr opts(raw);

  std::vector<const char*> servers;
  for (const auto& s : cfg.servers) servers.push_back(s.c_str());
  check(natsOptions_SetServers(opts.get(), servers.data(), static_cast<int>(servers.size())),
        "\"servers\"");
  // In the order given: the operator lists the nearest server first.
  check(natsOptions_SetNoRandomize(opts.get(), true), "servers order");
  check(natsOptions_SetName(opts.get(), name.c_str()), "\"name\"");

  if (!cfg.user.empty()) {
    check(natsOptions_SetUserInfo(opts.get(), cfg.user.c_str(), cfg.password.c_str()),
          "\"user\"/\"password\"");
  }
  if (!cfg.token.empty()) check(natsOptions_SetToken(opts.get(), cfg.token.c_str()), "\"token\"");
  if (!cfg.creds_file.empty()) {
    check(natsOptions_SetUserCredentialsFromFiles(opts.get(), cfg.creds_file.c_str(), nullptr),
          "\"creds_file\" " + cfg.creds_file);
  }

  if (cfg.tls.enabled) {
    // Verification stays on: the server's chain must reach ca_file, and its name must be
    // server_name when there is one.
    check(natsOptions_SetSecure(opts.get(), true), "TLS");
    check(natsOptions_LoadCATrustedCertificates(opts.get(), cfg.tls.ca_file.c_str()),
          "\"tls.ca_file\" " + cfg.tls.ca_file);
    if (!cfg.tls.cert_file.empty()) {
      check(natsOptions_LoadCertificatesChain(opts.get(), cfg.tls.cert_file.c_str(),
                                              cfg.tls.key_file.c_str()),
            "\"tls.cert_file\"/\"tls.key_file\" " + cfg.tls.cert_file);
    }
    if (!cfg.tls.server_name.empty()) {
      check(natsOptions_SetExpectedHostname(opts.get(), cfg.tls.server_name.c_str()),
            "\"tls.server_name\"");
    }
  }

  check(natsOptions_SetTimeout(opts.get(), cfg.connect_timeout.count()), "\"connect_timeout_ms\"");
  check(natsOptions_SetAllowReconnect(opts.get(), true), "reconnect");
  check(natsOptions_SetMaxReconnect(opts.get(), -1), "reconnect");  // forever
  // Outgoing data waits in libnats's write buffer for the socket loop; sized to
  // max_pending_bytes, the bound on what may wait (libnats also reads into a buffer this size).
  check(natsOptions_SetIOBufSize(opts.get(), static_cast<int>(cfg.max_pending_bytes)),
        "\"max_pending_bytes\"");
  check(natsOptions_SetMaxPendingMsgs(opts.get(), static_cast<int>(cfg.max_sub_pending_msgs)),
        "\"max_sub_pending_msgs\"");
  return opts;
}

}  // namespace vespid::natsbus
