#include "services/node_hosts/pairing_token_ledger.hpp"

namespace vespid::node_hosts {

void PairingTokenLedger::load(const std::string& org_id, const std::vector<Entry>& tokens) {
  Org& org = orgs_[org_id];
  org = {};
  for (const auto& t : tokens) add(org_id, t);
}

std::size_t PairingTokenLedger::live(const std::string& org_id, int64_t now_ms,
                                     std::vector<std::string>& expired) {
  auto it = orgs_.find(org_id);
  if (it == orgs_.end()) return 0;
  Org& org = it->second;
  while (!org.by_expiry.empty() && org.by_expiry.begin()->first <= now_ms) {
    auto node = org.by_expiry.extract(org.by_expiry.begin());
    org.expiry_of.erase(node.value().second);
    expired.push_back(std::move(node.value().second));
  }
  return org.by_expiry.size();
}

std::size_t PairingTokenLedger::count_live(const std::string& org_id, int64_t now_ms) const {
  auto it = orgs_.find(org_id);
  if (it == orgs_.end()) return 0;
  const auto& by_expiry = it->second.by_expiry;
  // Few are expired: live() at every refresh drops them, so this walk is short.
  std::size_t expired = 0;
  for (auto e = by_expiry.begin(); e != by_expiry.end() && e->first <= now_ms; ++e) ++expired;
  return by_expiry.size() - expired;
}

void PairingTokenLedger::add(const std::string& org_id, const Entry& token) {
  Org& org = orgs_[org_id];
  auto [it, fresh] = org.expiry_of.emplace(token.hash, token.expires_at_ms);
  if (!fresh) {
    org.by_expiry.erase({it->second, token.hash});
    it->second = token.expires_at_ms;
  }
  org.by_expiry.emplace(token.expires_at_ms, token.hash);
}

void PairingTokenLedger::remove(const std::string& org_id, const std::string& hash) {
  auto it = orgs_.find(org_id);
  if (it == orgs_.end()) return;
  Org& org = it->second;
  auto e = org.expiry_of.find(hash);
  if (e == org.expiry_of.end()) return;
  org.by_expiry.erase({e->second, hash});
  org.expiry_of.erase(e);
}

}  // namespace vespid::node_hosts
