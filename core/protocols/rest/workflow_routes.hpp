// rest.v1 routes for workflows, in the reference's paths (docs/workflows.md). Every call
// authenticates with the access token; the service checks the org in the path and the role.
#pragma once

#include "protocols/rest/rest_dialect.hpp"

namespace vespid::repo {
class Repository;
}

namespace vespid::workflows {

class WorkflowService;

void register_workflow_routes(core::RestDialect& rest, repo::Repository& repo,
                              WorkflowService& workflows);

}  // namespace vespid::workflows
