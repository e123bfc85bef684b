#include "gateway_runner.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

#include "operator_client.hpp"

namespace vespid::bench {

namespace fs = std::filesystem;
using nlohmann::json;

std::string self_dir() {
  return fs::read_symlink("/proc/self/exe").parent_path().string();
}

namespace {

std::string random_hex(std::size_t bytes) {
  std::random_device rd;
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < bytes; ++i) {
    const unsigned v = rd() & 0xff;
    s += digits[v >> 4];
    s += digits[v & 15];
  }
  return s;
}

json routes_api() {
  return json::array({{{"prefix", "/v1/"}, {"dialect", "rest.v1"}},
                      {{"prefix", "/internal/v1/"}, {"dialect", "rest.v1"}},
                      {{"path", "/healthz"}, {"dialect", "rest.v1"}},
                      // How busy the core and storage were, per run (core_load.hpp).
                      {{"path", "/metrics"}, {"dialect", "rest.v1"}}});
}

json routes_ws() {
  return json::array(
      {{{"path", "/ws"}, {"dialect", "vespid.node.v1"}, {"websocket", true}},
       {{"path", "/ws/client"}, {"dialect", "vespid.client.v1"}, {"websocket", true}},
       {{"path", "/ws/operator"}, {"dialect", "operator.v1"}, {"websocket", true}},
       {{"path", "/healthz"}, {"dialect", "rest.v1"}}});
}

}  // namespace

GatewayRunner::GatewayRunner(GatewayOptions opts) : opts_(std::move(opts)) {}

GatewayRunner::~GatewayRunner() {
  stop();
  if (temp_) {
    std::error_code ec;
    fs::remove_all(state_dir_, ec);
  }
}

json GatewayRunner::storage_config() const {
  json config = opts_.storage_config;
  if (opts_.storage_plugin == "sqlite" && !opts_.sqlite_synchronous.empty()) {
    config["synchronous"] = opts_.sqlite_synchronous;
  }
  return config;
}

void GatewayRunner::write_config(const std::string& path) {
  // Defaults everywhere except the limits a load test meets first: connection counts (the
  // gateway's, each listener's, the admin socket's), pending pairings and pairing tokens, and
  // the per-address limits on strangers (every bench node connects from 127.0.0.1, hundreds
  // at once before they say hello). Threads stay at their defaults: the figures are the
  // gateway as shipped.
  json cfg = {
      {"log", {{"level", opts_.log_level}}},
      {"limits", {{"max_connections", 60000}, {"max_anonymous_per_peer", 60000}}},
      {"pairing", {{"max_pending", 20000}, {"max_pending_per_peer", 20000}}},
      {"agents", {{"max_pairing_tokens_per_org", 20000}}},
      {"internal", {{"token", state_["internalToken"]}}},
      {"dispatch", {{"default_max_in_flight", 1000}}},
      {"plugins",
       {{"instances",
         json::array(
             {{{"name", "storage"}, {"plugin", opts_.storage_plugin}, {"config", storage_config()}},
              {{"name", "local"}, {"plugin", "unix"}, {"config", {{"max_connections", 1024}}}},
              {{"name", "bridge"},
               {"plugin", "bridge"},
               {"config", {{"port", state_["bridgePort"]}, {"max_connections", 30000}}}},
              {{"name", "api"},
               {"plugin", "ws"},
               {"config",
                {{"port", state_["apiPort"]},
                 {"routes", routes_api()},
                 {"max_connections", 30000}}}},
              {{"name", "ws"},
               {"plugin", "ws"},
               {"config",
                {{"port", state_["wsPort"]},
                 {"routes", routes_ws()},
                 {"max_connections", 30000}}}}})}}}};
  if (opts_.tls_listeners) {
    // The same listeners again with TLS, on the gateway's generated certificate (tls.cert_file
    // unset), so a scenario can run the same load plain and over TLS against one gateway.
    auto& inst = cfg["plugins"]["instances"];
    inst.push_back(
        {{"name", "bridge-tls"},
         {"plugin", "bridge"},
         {"config",
          {{"port", state_["bridgeTlsPort"]}, {"tls", true}, {"max_connections", 30000}}}});
    inst.push_back({{"name", "wss"},
                    {"plugin", "ws"},
                    {"config",
                     {{"port", state_["wssPort"]},
                      {"routes", routes_ws()},
                      {"tls", true},
                      {"max_connections", 30000}}}});
  }
  if (opts_.io_threads > 1) {
    for (auto& inst : cfg["plugins"]["instances"]) {
      if (inst["plugin"] == "bridge" || inst["plugin"] == "ws") {
        inst["config"]["threads"] = opts_.io_threads;
      }
    }
  }
  if (opts_.busy_poll_us > 0) {
    for (auto& inst : cfg["plugins"]["instances"]) {
      if (inst["plugin"] == "bridge") inst["config"]["busy_poll_us"] = opts_.busy_poll_us;
    }
  }
  if (!opts_.bus.is_null()) {
    json bus = opts_.bus;
    bus["name"] = "bus";
    cfg["plugins"]["instances"].insert(cfg["plugins"]["instances"].begin() + 1, bus);
  }
  cfg.merge_patch(opts_.config_patch);
  std::ofstream(path) << cfg.dump(2) << "\n";
}

void GatewayRunner::save() {
  const std::string path = state_dir_ + "/bench.json";
  std::ofstream(path + ".tmp") << state_.dump(1) << "\n";
  fs::rename(path + ".tmp", path);
}

void GatewayRunner::wait_ready() {
  for (int i = 0; i < 600; ++i) {
    try {
      auto c = cli::OperatorClient::connect(socket_path());
      json s = c.call("status");
      pid_ = s.value("pid", -1);
      return;
    } catch (const std::exception&) {
    }
    if (!opts_.attach && !proc_.running()) {
      throw std::runtime_error("vespid-gateway exited at start; see " + state_dir_ +
                               "/gateway.log");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("vespid-gateway did not become ready in 30 s; see " + state_dir_ +
                           "/gateway.log");
}

void GatewayRunner::start() {
  if (!state_dir_.empty()) {
    // A restart: same directory, same ports and tokens.
  } else if (opts_.state_dir.empty()) {
    char tmpl[] = "/tmp/vespid-bench-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    state_dir_ = tmpl;
    temp_ = true;
  } else {
    state_dir_ = fs::absolute(opts_.state_dir).string();
    fs::create_directories(state_dir_);
    fs::permissions(state_dir_, fs::perms::owner_all, fs::perm_options::replace);
  }
  if (std::ifstream in(state_dir_ + "/bench.json"); in) {
    state_ = json::parse(in);
  } else {
    if (opts_.attach) throw std::runtime_error("--attach: no bench.json in " + state_dir_);
    state_ = {{"bridgePort", pick_free_port()},
              {"apiPort", pick_free_port()},
              {"wsPort", pick_free_port()},
              {"internalToken", random_hex(24)},
              {"orgId", ""},
              {"bridgeNodes", json::array()},
              {"wsHosts", json::array()}};
  }
  // State directories from before the TLS listeners existed get their ports now.
  for (const char* key : {"bridgeTlsPort", "wssPort"}) {
    if (!state_.contains(key)) state_[key] = pick_free_port();
  }
  if (opts_.attach && opts_.tls_listeners && !state_.value("tlsListeners", false)) {
    throw std::runtime_error("--attach: the gateway on " + state_dir_ +
                             " was started without the bench's TLS listeners");
  }
  if (!opts_.attach) {
    const std::string bin =
        opts_.gateway_bin.empty() ? self_dir() + "/vespid-gateway" : opts_.gateway_bin;
    const std::string plugins =
        opts_.plugin_dir.empty() ? self_dir() + "/../lib/vespid/plugins" : opts_.plugin_dir;
    const std::string cfg = state_dir_ + "/bench-config.json";
    write_config(cfg);
    state_["tlsListeners"] = opts_.tls_listeners;
    proc_.start({bin, "run", "--state-dir", state_dir_, "--plugin-dir", plugins, "--config", cfg},
                state_dir_ + "/gateway.log");
  }
  wait_ready();
  auto admin = cli::OperatorClient::connect(socket_path());
  if (state_["orgId"].get<std::string>().empty()) {
    try {
      json r = admin.call("orgs.create", {{"name", "bench"}});
      state_["orgId"] = r["org"]["id"];
    } catch (const cli::OperatorError& e) {
      if (e.code != "CONFLICT") throw;
      json orgs = admin.call("orgs.list");
      for (const auto& o : orgs["orgs"]) {
        if (o["name"] == "bench") state_["orgId"] = o["id"];
      }
    }
  }
  save();
}

void GatewayRunner::stop() {
  if (!opts_.attach) proc_.stop(std::chrono::seconds(15));
  pid_ = -1;
}

std::vector<NodeCred> GatewayRunner::bridge_nodes() const {
  std::vector<NodeCred> out;
  for (const auto& n : state_["bridgeNodes"]) out.push_back({n["id"], n["token"]});
  return out;
}

void GatewayRunner::add_bridge_nodes(const std::vector<NodeCred>& more) {
  for (const auto& n : more) state_["bridgeNodes"].push_back({{"id", n.id}, {"token", n.token}});
  save();
}

std::vector<WsCred> GatewayRunner::ws_hosts() const {
  std::vector<WsCred> out;
  for (const auto& n : state_["wsHosts"]) out.push_back({n["agentId"], n["token"]});
  return out;
}

void GatewayRunner::add_ws_hosts(const std::vector<WsCred>& more) {
  for (const auto& n : more) {
    state_["wsHosts"].push_back({{"agentId", n.agent_id}, {"token", n.token}});
  }
  save();
}

}  // namespace vespid::bench
