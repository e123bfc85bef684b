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

struct AdminServices {
  repo::Repository& repo;
  std::function<nlohmann::json()> status;  // the gateway's status snapshot (Sequencer)
};

void register_admin_methods(MethodTable& table, AdminServices services);

}  // namespace vespid::core
