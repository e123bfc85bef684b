#include "protocols/bridge/authenticated_nodes.hpp"

#include <vector>

#include "host/connections/connection.hpp"

namespace vespid::core {

void AuthenticatedNodes::add(const std::shared_ptr<Connection>& conn, const std::string& org_id) {
  remove(conn->id());  // a connection belongs to one org at a time
  orgs_[org_id][conn->id()] = conn;
  org_of_[conn->id()] = org_id;
}

void AuthenticatedNodes::remove(uint64_t connection_id) {
  auto it = org_of_.find(connection_id);
  if (it == org_of_.end()) return;
  if (auto org = orgs_.find(it->second); org != orgs_.end()) {
    org->second.erase(connection_id);
    if (org->second.empty()) orgs_.erase(org);
  }
  org_of_.erase(it);
}

void AuthenticatedNodes::send_to_all(const std::string& frame) {
  // Collected first: send_to() may forget connections, which changes orgs_.
  std::vector<std::string> orgs;
  orgs.reserve(orgs_.size());
  for (const auto& [org, members] : orgs_) orgs.push_back(org);
  for (const auto& org : orgs) send_to_org(org, frame);
}

void AuthenticatedNodes::send_to_org(const std::string& org_id, const std::string& frame) {
  auto it = orgs_.find(org_id);
  if (it == orgs_.end()) return;
  send_to(it->second, frame);
}

void AuthenticatedNodes::send_to(Members& members, const std::string& frame) {
  std::vector<uint64_t> dead;
  for (const auto& [id, weak] : members) {
    auto c = weak.lock();
    if (!c || c->gone || c->closing() || c->send(frame) != VSP_OK) dead.push_back(id);
  }
  for (uint64_t id : dead) remove(id);
}

}  // namespace vespid::core
