#include "services/identity/principal.hpp"

namespace vespid::core {

const char* role_name(Role r) noexcept {
  switch (r) {
    case Role::Anonymous:
      return "anonymous";
    case Role::Operator:
      return "operator";
    case Role::LocalAdmin:
      return "local-admin";
    case Role::Internal:
      return "internal";
    case Role::Node:
      return "node";
  }
  return "?";
}

}  // namespace vespid::core
