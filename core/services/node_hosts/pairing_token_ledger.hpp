// Which unused pairing tokens each org holds, by expiry, so that minting one more checks
// agents.max_pairing_tokens_per_org in O(log n) instead of reading every token the org has.
//
// A cache of storage, per instance: an org's entry is filled by one scan the first time it mints
// here, then kept up to date by what this instance mints and consumes. Tokens minted or used on
// another instance of a cluster are seen at the next scan, which the caller makes whenever the
// ledger says an org is full (so a count that went stale can only refuse after a fresh look).
// Owned by NodeHostStore; used on the core's thread only.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace vespid::node_hosts {

class PairingTokenLedger {
 public:
  struct Entry {
    std::string hash;  // SHA-256 hex of the token, as its storage keys name it
    int64_t expires_at_ms = 0;
  };

  bool has(const std::string& org_id) const { return orgs_.count(org_id) != 0; }

  // Replaces what is known of the org with a fresh scan of storage.
  void load(const std::string& org_id, const std::vector<Entry>& tokens);

  // Unexpired tokens the org holds; the expired ones are dropped and returned in `expired`
  // (their storage rows are the caller's to delete).
  std::size_t live(const std::string& org_id, int64_t now_ms, std::vector<std::string>& expired);

  // Unexpired tokens the org holds, dropping nothing (the expired ones go at the next live()).
  std::size_t count_live(const std::string& org_id, int64_t now_ms) const;

  void add(const std::string& org_id, const Entry& token);
  void remove(const std::string& org_id, const std::string& hash);

 private:
  struct Org {
    std::set<std::pair<int64_t, std::string>> by_expiry;
    std::map<std::string, int64_t> expiry_of;
  };
  std::map<std::string, Org> orgs_;
};

}  // namespace vespid::node_hosts
