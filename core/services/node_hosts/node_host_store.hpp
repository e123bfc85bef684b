// Node hosts' credentials over storage: single-use pairing tokens, pairing (which adds the host to
// the one node registry, kind "agent"), and checking an agent token. Tokens are shown once and
// stored only as SHA-256; every state change is one storage transaction guarded by compares, so
// two hosts pairing with one token cannot both win.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/task.hpp"
#include "services/node_hosts/pairing_token_ledger.hpp"
#include "services/nodes/node_record.hpp"
#include "storage/storage_service.hpp"

namespace vespid::node_hosts {

struct NodeHostLimits {
  int64_t pairing_token_ttl_ms = 15 * 60 * 1000;
  int max_pairing_tokens_per_org = 100;  // unused, unexpired tokens
};

struct PairingToken {
  std::string token;  // "<orgId>.<base64url>", shown once
  int64_t expires_at_ms = 0;
};

struct PairRequest {
  std::string pairing_token;
  std::string name;
  std::string agent_version;
  nlohmann::json capabilities = nlohmann::json::object();
  std::vector<std::string> tags;
};

struct Paired {
  nodes::NodeRecord agent;
  std::string agent_token;  // "<orgId>.<base64url>", shown once
};

class NodeHostStore {
 public:
  NodeHostStore(core::StorageService& storage, NodeHostLimits limits)
      : storage_(storage), limits_(limits) {}

  // The caller has checked that `created_by` may pair hosts into `org_id`.
  core::Task<PairingToken> create_pairing_token(std::string org_id, std::string created_by);

  // Throws api::ApiError PAIRING_TOKEN_INVALID (unknown, used or expired: one answer for all,
  // so tokens cannot be probed) or INVALID_REQUEST for bad fields.
  core::Task<Paired> pair(PairRequest request);

  enum class Verdict { Ok, Unauthorized, Revoked };
  struct Check {
    Verdict verdict;
    std::optional<nodes::NodeRecord> agent;
  };
  core::Task<Check> check_token(std::string agent_token);

  // Records what a host said at hello (version, capabilities) and when it was seen.
  core::Task<void> record_hello(std::string agent_id, std::string agent_version,
                                nlohmann::json capabilities);

 private:
  // The org's unused tokens as storage holds them (expiry in the index row).
  core::Task<std::vector<PairingTokenLedger::Entry>> scan_pairing_tokens(std::string org_id);
  // Fills the ledger's entry for the org by a scan if it has none (or anew when `rescan`) and
  // deletes the rows of the tokens found expired.
  core::Task<void> refresh_pairing_tokens(std::string org_id, bool rescan);
  // Unexpired tokens the org holds, by the ledger; synchronous.
  std::size_t live_pairing_tokens(const std::string& org_id);

  core::StorageService& storage_;
  NodeHostLimits limits_;
  PairingTokenLedger ledger_;
};

// "<orgId>" from "<orgId>.<secret>", or empty when the token has no such prefix.
std::string org_of_token(const std::string& token);

}  // namespace vespid::node_hosts
