// The identity and administration methods: health, status, auth, whoami, orgs, users,
// memberships, access tokens.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>

#include "protocols/method_table.hpp"

namespace vespid::repo {
class Repository;
}

namespace vespid::core {

class CredentialEvents;

struct AdminServices {
  repo::Repository& repo;
  CredentialEvents& credentials;           // closes the connections of a revoked token
  std::function<nlohmann::json()> status;  // the gateway's status snapshot (Sequencer)
};

void register_admin_methods(MethodTable& table, AdminServices services);

}  // namespace vespid::core
