// The gateway daemon: assembles the core from its configuration and runs it until a signal.
//
// Start-up order: state directory and its lock, plugin modules, the storage instance (on the
// storage thread) and the schema migration, the bus, then transports in config order. Shutdown
// reverses it: refuse new connections, stop transports (they drain), close what is left, stop
// the bus, flush storage, exit 0.
#pragma once

#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cluster/cluster_fanout.hpp"
#include "cluster/cluster_node_router.hpp"
#include "config/config.hpp"
#include "gateway/net_instances.hpp"
#include "gateway/state_dir_lock.hpp"
#include "host/bus/plugin_bus.hpp"
#include "host/connections/connection_hub.hpp"
#include "host/plugins/instance_services.hpp"
#include "host/plugins/module_catalog.hpp"
#include "host/plugins/plugin_instance.hpp"
#include "protocols/method_table.hpp"
#include "runtime/core_entry.hpp"
#include "runtime/deadlines.hpp"
#include "runtime/loop.hpp"
#include "runtime/service_notify.hpp"
#include "services/dispatch/dispatcher.hpp"
#include "services/dispatch/result_store.hpp"
#include "services/identity/credential_events.hpp"
#include "services/identity/web_sessions.hpp"
#include "services/node_hosts/node_host_store.hpp"
#include "services/nodes/node_router.hpp"
#include "services/nodes/node_store.hpp"
#include "storage/repository.hpp"
#include "storage/storage_service.hpp"

namespace vespid::workflows {
class WorkflowService;
class RunService;
class CronTrigger;
}  // namespace vespid::workflows
namespace vespid::sessions {
class SessionService;
}

namespace vespid::core {

class BridgeDialect;
class NodeEvents;
class OperatorDialect;
class RestDialect;
class WebCookieAuth;

class Gateway final : public InstanceServices, public CredentialEvents {
 public:
  Gateway(config::GatewayConfig cfg, std::vector<std::string> plugin_dirs);
  ~Gateway() override;

  // Runs until shutdown; returns the process exit code.
  int run();

  // How SIGHUP re-reads the configuration: the same file, environment and flags as at start.
  // Only the log levels take effect in a running gateway (service_hooks.cpp says why); without
  // a reloader SIGHUP is ignored with a warning rather than ending the process.
  using Reloader = std::function<config::GatewayConfig()>;
  void set_reloader(Reloader reloader) { reloader_ = std::move(reloader); }

  // The bus between gateways (the one bus instance, `local` unless configured otherwise). Valid
  // from the end of start-up (plugins started) until the gateway is destroyed; any thread.
  host::Bus& bus() { return *bus_; }

  // InstanceServices
  Loop& loop() override { return loop_; }
  const std::string& state_dir() const override { return cfg_.state_dir; }
  std::string config_text(const std::string& path) const override;
  void instance_failed(PluginInstance& instance, int status, const std::string& message) override;
  ConnectionServices* connections() override { return hub_.get(); }
  // CredentialEvents: acts on this instance's connections and tells the other instances.
  int access_token_revoked(const std::string& token_id) override;
  int membership_removed(const std::string& org_id, const std::string& user_id) override;
  void user_rights_changed(const std::string& user_id) override;
  // Sequencer only: closes `c` after the handler running now has sent its replies.
  void close_after_this_turn(Connection& c, const char* reason);
  BindService* bind_service() override { return net_ ? &net_->binds() : nullptr; }
  DiscoveryPublisher* discovery_publisher() override { return net_ ? &net_->publisher() : nullptr; }

 private:
  void start();  // throws StartupError
  void load_instances();
  void open_storage();
  void start_bus();
  std::string instance_key(const std::string& name) const;  // "plugins.instances[3]"
  void prepare_tls();
  void build_semantics();
  // The web client's sign-in (web_signin.cpp): sessions and the cookie check, built before the
  // dialects that accept the cookie; then its REST routes and operator method.
  void build_web_signin();
  void register_web_signin(RestDialect& rest);
  // Node hosts: the vespid.node.v1 dialect, their REST routes, internal dispatch (http_api.cpp).
  void build_node_hosts(RestDialect& rest);
  // The cluster layer over the bus: the node router the services use, and what other
  // instances must hear about (core/cluster). Built at the end of build_node_hosts.
  void build_cluster();
  int close_token_holders_here(const std::string& token_id);
  int close_member_here(const std::string& org_id, const std::string& user_id);
  void start_transports();
  void begin_shutdown(int exit_code, const std::string& why);
  void finish_shutdown();
  void stop_and_destroy(PluginInstance& inst);  // start-up failure path only
  nlohmann::json status_snapshot();
  // The service manager and SIGHUP (service_hooks.cpp).
  void announce_ready();  // READY=1, then WATCHDOG=1 from the loop while it turns
  std::string service_status() const;
  void watch_reload_signal();
  void reload();
  // GET /metrics (metrics_scrape.cpp): the route, when metrics.enabled, and its text.
  void register_metrics(RestDialect& rest);
  std::string metrics_text();
  std::string transport_fingerprint(PluginInstance& transport) const;

  config::GatewayConfig cfg_;
  std::vector<std::string> plugin_dirs_;
  Loop loop_;
  // Before storage_, so that it outlives the storage thread that enters the core through it.
  CoreEntry storage_entry_{loop_};
  std::unique_ptr<StateDirLock> lock_;
  ModuleCatalog catalog_;
  std::vector<std::unique_ptr<PluginInstance>> instances_;
  PluginInstance* storage_instance_ = nullptr;
  std::unique_ptr<StorageService> storage_;
  std::unique_ptr<repo::Repository> repo_;
  std::unique_ptr<auth::WebSessions> web_sessions_;
  std::unique_ptr<WebCookieAuth> web_cookie_auth_;
  std::unique_ptr<host::PluginBus> bus_;
  MethodTable methods_;
  std::unique_ptr<ConnectionHub> hub_;
  std::unique_ptr<Deadlines> deadlines_;
  std::unique_ptr<nodes::NodeStore> node_store_;
  // Node events for operators (observes router_: declared before it, so it outlives it).
  std::unique_ptr<NodeEvents> node_events_;
  std::unique_ptr<nodes::LocalNodeRouter> router_;  // the nodes connected here (dialects)
  // Every node of the deployment (services): router_ plus those held by other instances.
  std::unique_ptr<cluster::ClusterNodeRouter> cluster_router_;
  std::unique_ptr<cluster::ClusterFanout> fanout_;
  cluster::ClusterSettings cluster_settings_;
  // This instance's session subscribers (client and bridge dialects), for the fan-out.
  std::function<void(const std::string&, const std::vector<nlohmann::json>&)>
      deliver_session_events_;
  std::function<bool(const std::string&)> watches_session_;
  OperatorDialect* operator_dialect_ = nullptr;  // owned by hub_
  BridgeDialect* bridge_dialect_ = nullptr;      // owned by hub_
  std::unique_ptr<node_hosts::NodeHostStore> node_host_store_;
  std::unique_ptr<dispatch::ResultStore> result_store_;
  std::unique_ptr<dispatch::Dispatcher> dispatcher_;
  // Sessions (issue 5), built in http_api.cpp.
  std::unique_ptr<sessions::SessionService> sessions_;
  std::unique_ptr<workflows::WorkflowService> workflows_;
  std::unique_ptr<workflows::RunService> runs_;
  std::unique_ptr<workflows::CronTrigger> cron_;  // fires cron workflows' runs
  std::unique_ptr<NetInstances> net_;             // netbind + discovery (issue 6)

  std::chrono::steady_clock::time_point started_at_;
  bool shutting_down_ = false;
  bool finished_ = false;
  int exit_code_ = 0;
  int transports_stopping_ = 0;
  std::unique_ptr<Loop::Timer> shutdown_timer_;

  ServiceNotifier notifier_;
  std::unique_ptr<Loop::Timer> watchdog_timer_;
  std::unique_ptr<boost::asio::signal_set> reload_signal_;
  Reloader reloader_;
  nlohmann::json loaded_effective_;  // as loaded, before start-up fills in derived paths
};

}  // namespace vespid::core
