// The gateway's node-host side: agent credentials, the vespid.node.v1 dialect, the REST routes
// for pairing and managing hosts, and internal dispatch with its durable results.
#include "gateway/exit_codes.hpp"
#include "gateway/gateway.hpp"
#include "host/discovery/ws_url.hpp"
#include "protocols/bridge/bridge_dialect.hpp"
#include "protocols/client/client_dialect.hpp"
#include "protocols/node/node_host_dialect.hpp"
#include "protocols/operator/dispatch_methods.hpp"
#include "protocols/operator/node_events.hpp"
#include "protocols/operator/operator_dialect.hpp"
#include "protocols/operator/session_methods.hpp"
#include "protocols/rest/dispatch_routes.hpp"
#include "protocols/rest/node_host_routes.hpp"
#include "protocols/rest/rest_auth.hpp"
#include "protocols/rest/rest_dialect.hpp"
#include "protocols/rest/session_routes.hpp"
#include "protocols/rest/workflow_routes.hpp"
#include "protocols/rest/workflow_run_routes.hpp"
#include "runtime/crypto.hpp"
#include "runtime/logging.hpp"
#include "runtime/run_to_completion.hpp"
#include "services/sessions/session_service.hpp"
#include "services/workflows/cron_trigger.hpp"
#include "services/workflows/run_service.hpp"
#include "services/workflows/workflow_service.hpp"

namespace vespid::core {

namespace {
constexpr size_t kMinServiceTokenLength = 16;
}

void Gateway::build_node_hosts(RestDialect& rest) {
  node_host_store_ = std::make_unique<node_hosts::NodeHostStore>(
      *storage_, node_hosts::NodeHostLimits{
                     cfg_.integer("agents.pairing_token_ttl_ms"),
                     static_cast<int>(cfg_.integer("agents.max_pairing_tokens_per_org"))});
  result_store_ = std::make_unique<dispatch::ResultStore>(
      *storage_, cfg_.integer("dispatch.results_ttl_ms"),
      static_cast<size_t>(cfg_.integer("dispatch.result_cache_bytes")));
  dispatch::DispatchSettings ds;
  ds.instance_id = cluster_settings_.instance_id;
  ds.default_timeout_ms = cfg_.integer("dispatch.default_timeout_ms");
  ds.default_max_in_flight = static_cast<int>(cfg_.integer("dispatch.default_max_in_flight"));
  ds.max_outstanding = static_cast<int>(cfg_.integer("dispatch.max_outstanding"));
  dispatcher_ = std::make_unique<dispatch::Dispatcher>(*storage_, *cluster_router_, *deadlines_,
                                                       *result_store_, ds);
  hub_->add_dialect(
      std::make_unique<node_hosts::NodeHostDialect>(*node_host_store_, *router_, *dispatcher_));

  // Sessions: rest.v1 routes, vespid.client.v1 (/ws/client) and operator.v1 methods, all on one
  // service over the dispatcher.
  sessions::SessionSettings ss;
  ss.turn_timeout_ms = cfg_.integer("sessions.turn_timeout_ms");
  ss.history_messages = static_cast<int>(cfg_.integer("sessions.history_messages"));
  ss.history_max_bytes = static_cast<size_t>(cfg_.integer("sessions.history_max_bytes"));
  ss.replay_default = static_cast<int>(cfg_.integer("sessions.replay_default"));
  ss.github_api_base_url = cfg_.string("sessions.github_api_base_url");
  ss.node_main_engine = cfg_.string("sessions.node_main_engine");
  ss.node_main_model = cfg_.string("sessions.node_main_model");
  sessions_ = std::make_unique<sessions::SessionService>(*storage_, *repo_, *cluster_router_,
                                                         *dispatcher_, ss);
  auto client =
      std::make_unique<sessions::ClientDialect>(*repo_, *sessions_, web_cookie_auth_.get());
  sessions::ClientDialect* client_dialect = client.get();
  // Events stored here go to this instance's subscribers and, through the cluster fan-out, to
  // every other instance's (build_cluster).
  sessions_->set_fan_out([this](const std::string& id, const std::vector<nlohmann::json>& events) {
    fanout_->session_events_stored(id, events);
  });
  deliver_session_events_ = [client_dialect, bridge = bridge_dialect_](
                                const std::string& id, const std::vector<nlohmann::json>& events) {
    client_dialect->publish(id, events);
    if (bridge != nullptr) bridge->publish_chat(id, events);
  };
  watches_session_ = [client_dialect, bridge = bridge_dialect_](const std::string& id) {
    return client_dialect->watches(id) || (bridge != nullptr && bridge->watches_chat(id));
  };
  if (bridge_dialect_ != nullptr) bridge_dialect_->set_sessions(sessions_.get());
  hub_->add_dialect(std::move(client));
  sessions::register_session_routes(rest, *repo_, *sessions_);
  workflows_ = std::make_unique<workflows::WorkflowService>(*storage_, *repo_);
  workflows::register_workflow_routes(rest, *repo_, *workflows_);
  sessions::register_session_methods(methods_, *sessions_);
  // After the session service exists: it rebuilds the listeners of turns still in flight.
  try {
    run_to_completion(loop_, dispatcher_->recover());
  } catch (const std::exception& e) {
    throw StartupError(exit_code::kStorage, std::string("dispatch recovery: ") + e.what());
  }

  // gatewayWsUrl: configured, else the first listener serving /ws at the Host the host used.
  std::string configured_url = cfg_.string("agents.gateway_ws_url");
  NodeListener listener{3002, false};
  for (const auto& inst : instances_) {
    if (inst->plugin_id() != "ws") continue;
    auto found = node_listener_of(nlohmann::json::parse(inst->config_json(), nullptr, false));
    if (found) {
      listener = *found;
      break;
    }
  }
  node_hosts::register_node_host_routes(
      rest, node_hosts::NodeHostRouteServices{
                *repo_, *node_store_, *node_host_store_, *cluster_router_,
                [configured_url, listener](const RestRequest& req) {
                  return configured_url.empty() ? gateway_ws_url(listener, header(req, "host"))
                                                : configured_url;
                }});

  std::string token = cfg_.string("internal.token");
  if (!token.empty() && token.size() < kMinServiceTokenLength) {
    throw StartupError(exit_code::kConfig,
                       "internal.token is too short (" + std::to_string(token.size()) +
                           " characters; at least " + std::to_string(kMinServiceTokenLength) +
                           "): use a long random secret, e.g. `openssl rand -hex 32`");
  }
  if (token.empty()) {
    log::get("core")->warn(
        "internal.token is not set: /internal/v1 routes answer 503 INTERNAL_ROUTES_DISABLED "
        "(set VESPID_INTERNAL_TOKEN to enable dispatch for workers)");
  }
  dispatch::RequestLimits limits;
  limits.max_timeout_ms = cfg_.integer("dispatch.max_timeout_ms");
  register_dispatch_methods(methods_, DispatchMethodServices{*repo_, *node_host_store_,
                                                             *dispatcher_, limits.max_timeout_ms});
  const std::string token_sha256 = token.empty() ? std::string() : crypto::sha256_hex(token);
  dispatch::register_dispatch_routes(
      rest, dispatch::DispatchRouteServices{*dispatcher_, token_sha256, limits});

  // Workflow runs: users start and follow them; workers claim them over the internal routes.
  workflows::RunSettings rs;
  rs.max_attempts = static_cast<int>(cfg_.integer("workflows.max_attempts"));
  rs.default_lease_ms = cfg_.integer("workflows.lease_ms");
  rs.max_state_bytes = static_cast<size_t>(cfg_.integer("workflows.max_state_bytes"));
  runs_ = std::make_unique<workflows::RunService>(*storage_, *repo_, *deadlines_, rs);
  runs_->set_on_canceled(
      [d = dispatcher_.get()](const std::string& run_id, const std::string& request_id) {
        d->cancel(request_id, run_id);
      });
  workflows::register_workflow_run_routes(rest, *repo_, *runs_, token_sha256);
  workflows::CronSettings cs;
  cs.check_interval = std::chrono::milliseconds(cfg_.integer("workflows.cron_check_interval_ms"));
  cron_ = std::make_unique<workflows::CronTrigger>(*storage_, *deadlines_, *runs_, cs);
  workflows_->set_on_cron_scheduled([c = cron_.get()](int64_t fire_ms) { c->tick_at(fire_ms); });
  cron_->start();
  build_cluster();
}

void Gateway::build_cluster() {
  cluster::ClusterFanout::Local local;
  local.close_token_holders = [this](const std::string& id) {
    return close_token_holders_here(id);
  };
  local.close_member = [this](const std::string& org, const std::string& user) {
    return close_member_here(org, user);
  };
  local.pairing = bridge_dialect_;
  local.announce_pairing_request = [events = node_events_.get()](const nlohmann::json& request) {
    events->pairing_requested(request);
  };
  local.announce_pairing_resolved = [events = node_events_.get()](const nlohmann::json& resolved) {
    events->pairing_resolved(resolved);
  };
  local.user_rights_changed = [ops = operator_dialect_](const std::string& user_id) {
    ops->user_rights_changed(user_id);
  };
  local.push_voicewake = [bridge = bridge_dialect_](const std::string& org_id,
                                                    const nlohmann::json& settings) {
    if (bridge != nullptr) bridge->push_voicewake(org_id, settings);
  };
  local.deliver_events = deliver_session_events_;
  local.watches_session = watches_session_;
  local.dispatcher = dispatcher_.get();
  local.others_present = [this] { return cluster_router_->presence().instance_count() > 0; };
  local.cancel_turn = [sessions = sessions_.get()](
                          const std::string& session_id, const std::string& request_id,
                          const std::string& stop_reason, const std::string& by) {
    sessions->cancel_here(session_id, request_id, stop_reason, by);
  };
  local.adopts_dispatches_to = [this](const std::string& agent_id) {
    if (router_->find(agent_id) != nullptr) return true;  // the host is connected here
    if (cluster_router_->presence().find(agent_id) != nullptr) return false;  // its holder adopts
    // Held nowhere (it will reconnect somewhere): the live instance with the lowest id waits.
    for (const auto& id : cluster_router_->presence().instance_ids()) {
      if (id < cluster_settings_.instance_id) return false;
    }
    return true;
  };
  fanout_ = std::make_unique<cluster::ClusterFanout>(cluster_settings_, bus(), loop_.sequencer(),
                                                     *storage_, std::move(local));
  dispatcher_->set_relay(fanout_.get());
  sessions_->set_remote_cancel(
      cluster_settings_.instance_id,
      [fanout = fanout_.get()](const std::string& instance, const std::string& session_id,
                               const std::string& request_id, const std::string& stop_reason,
                               const std::string& by) {
        fanout->cancel_turn_on(instance, session_id, request_id, stop_reason, by);
      });
  if (bridge_dialect_ != nullptr) {
    bridge_dialect_->set_voicewake_announcer(
        [fanout = fanout_.get()](const std::string& org_id, const nlohmann::json& settings) {
          fanout->voicewake_changed(org_id, settings);
        });
  }
  cluster_router_->on_instance_lost(
      [fanout = fanout_.get()](const std::string& instance) { fanout->instance_lost(instance); });
}

}  // namespace vespid::core
