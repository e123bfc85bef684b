// rest.v1 routes for workflows, in the reference's paths (docs/workflows.md). Every call
// authenticates with the access token; the service checks the org in the path and the role.
#pragma once

#include "protocols/rest/rest_dialect.hpp"
#include "runtime/task.hpp"

namespace vespid::repo {
class Repository;
}

namespace vespid::workflows {

class WorkflowService;
struct Caller;

void register_workflow_routes(core::RestDialect& rest, repo::Repository& repo,
                              WorkflowService& workflows);

// Who calls a route under /v1/orgs/:orgId/workflows (the access token's principal), and the org
// in its path (the first parameter). Throws UNAUTHORIZED.
core::Task<Caller> workflow_caller(repo::Repository& repo, core::RestRequest req);

}  // namespace vespid::workflows
