// rest.v1 routes for workflow runs, in the reference's paths (docs/workflows.md), and the
// internal routes workers use to claim and checkpoint them (x-gateway-token, like dispatch).
#pragma once

#include <string>

#include "protocols/rest/rest_dialect.hpp"

namespace vespid::repo {
class Repository;
}

namespace vespid::workflows {

class RunService;

void register_workflow_run_routes(core::RestDialect& rest, repo::Repository& repo, RunService& runs,
                                  std::string service_token_sha256);

}  // namespace vespid::workflows
