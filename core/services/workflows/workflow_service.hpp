// Workflows as stored, versioned specs per org (docs/workflows.md): create, list, read, update
// (each update is a new revision, the old ones kept), publish. Specs are checked by
// validate_workflow_spec and refused with every problem named. Owners and admins write; every
// member reads. Runs inside the Sequencer.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/task.hpp"
#include "services/identity/principal.hpp"
#include "storage/storage_service.hpp"

namespace vespid::repo {
class Repository;
}

namespace vespid::workflows {

struct Caller {
  core::Principal who;
  std::string org_id;
};

// A webhook trigger's token as stored: "sha256:" and the hex SHA-256 of the token.
inline const std::string kWebhookHashPrefix = "sha256:";
bool is_hashed_webhook_token(const std::string& token);
// The hex hash of a spec's webhook token, or "" when its trigger is not a webhook.
std::string webhook_token_hash(const nlohmann::json& dsl);

class WorkflowService {
 public:
  WorkflowService(core::StorageService& storage, repo::Repository& repo)
      : storage_(storage), repo_(repo) {}

  // Each throws api::ApiError: UNAUTHORIZED / FORBIDDEN (require_org_access), BAD_REQUEST or a
  // graph code (GRAPH_CYCLE_DETECTED, ...) with details.issues, WORKFLOW_NOT_FOUND (also for
  // another org's workflow), CONFLICT (a published workflow is not edited).
  // {name, dsl} -> the workflow (revision 1, status draft).
  core::Task<nlohmann::json> create(Caller caller, nlohmann::json body);
  // {workflows, nextCursor}, newest first.
  core::Task<nlohmann::json> list(Caller caller, int limit, std::string cursor);
  core::Task<nlohmann::json> get(Caller caller, std::string workflow_id);
  // {name?, dsl?} -> the workflow at its next revision.
  core::Task<nlohmann::json> update(Caller caller, std::string workflow_id, nlohmann::json body);
  // {revisions: [{revision, name, dsl, createdAt, createdByUserId}]}, newest first.
  core::Task<nlohmann::json> revisions(Caller caller, std::string workflow_id, int limit);
  // status draft -> published (its spec is then fixed; runs use it). A cron trigger's first
  // tick is stored with it; a webhook token is indexed (CONFLICT when another workflow has it).
  core::Task<nlohmann::json> publish(Caller caller, std::string workflow_id);

  // Told the first tick of a cron workflow just published (the cron trigger looks then).
  void set_on_cron_scheduled(std::function<void(int64_t fire_ms)> f) {
    on_cron_scheduled_ = std::move(f);
  }

 private:
  core::Task<nlohmann::json> require_workflow(Caller caller, std::string workflow_id, bool write);
  // `first_created_us` > 0: the workflow's first revision, created then (its list entry's key);
  // 0: a later revision of a stored workflow, whose version must still be `expected_version`.
  core::Task<nlohmann::json> store_revision(nlohmann::json record, uint64_t expected_version,
                                            int64_t first_created_us);

  core::StorageService& storage_;
  repo::Repository& repo_;
  std::function<void(int64_t)> on_cron_scheduled_;
};

}  // namespace vespid::workflows
