#include "config/schema.hpp"

#include <cctype>

namespace vespid::config {

namespace {
const std::vector<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
}

nlohmann::json default_instances() {
  return nlohmann::json::array({
      {{"name", "storage"}, {"plugin", "sqlite"}, {"config", nlohmann::json::object()}},
      // The bus between gateways: in-process for a single machine, no service needed. One per
      // gateway; an explicit instance list without one gets this one.
      {{"name", "bus"}, {"plugin", "local"}, {"config", nlohmann::json::object()}},
      {{"name", "local"}, {"plugin", "unix"}, {"config", nlohmann::json::object()}},
      // bridge.v1 on 127.0.0.1:18790; bind beyond loopback with {"host": ...} in its config.
      {{"name", "bridge"}, {"plugin", "bridge"}, {"config", nlohmann::json::object()}},
      // The HTTP API (REST and internal routes) on 127.0.0.1:3001.
      {{"name", "api"},
       {"plugin", "ws"},
       {"config",
        {{"port", 3001},
         // /metrics only here: off the public listeners (docs/metrics.md).
         {"routes", nlohmann::json::array({{{"prefix", "/v1/"}, {"dialect", "rest.v1"}},
                                           {{"prefix", "/internal/v1/"}, {"dialect", "rest.v1"}},
                                           {{"path", "/healthz"}, {"dialect", "rest.v1"}},
                                           {{"path", "/metrics"}, {"dialect", "rest.v1"}}})}}}},
      // WebSockets on 127.0.0.1:3002: node hosts, control clients, operators.
      {{"name", "ws"},
       {"plugin", "ws"},
       {"config",
        {{"port", 3002},
         {"routes",
          nlohmann::json::array(
              {{{"path", "/ws"}, {"dialect", "vespid.node.v1"}, {"websocket", true}},
               {{"path", "/ws/client"}, {"dialect", "vespid.client.v1"}, {"websocket", true}},
               {{"path", "/ws/operator"}, {"dialect", "operator.v1"}, {"websocket", true}},
               {{"path", "/healthz"}, {"dialect", "rest.v1"}}})}}}},
      // The web control client on 127.0.0.1:3000: its pages and, on the same origin (the
      // cookie's Origin rule needs one), the REST API and the browser's two WebSockets. No
      // /internal/v1 and no /ws for node hosts: a browser needs neither.
      {{"name", "web"},
       {"plugin", "ws"},
       {"config",
        {{"port", 3000},
         {"static_dir", "@web"},
         {"routes",
          nlohmann::json::array(
              {{{"prefix", "/v1/"}, {"dialect", "rest.v1"}},
               {{"path", "/ws/client"}, {"dialect", "vespid.client.v1"}, {"websocket", true}},
               {{"path", "/ws/operator"}, {"dialect", "operator.v1"}, {"websocket", true}},
               {{"path", "/healthz"}, {"dialect", "rest.v1"}},
               {{"prefix", "/"}, {"static", true}}})}}}},
  });
}

const std::vector<KeySpec>& schema() {
  static const std::vector<KeySpec> keys = {
      {"state_dir", Type::String, "",
       "Directory for the database, the admin socket and generated keys. Empty: "
       "$XDG_STATE_HOME/vespid, else ~/.local/state/vespid."},
      {"log.level", Type::Enum, "info", "Default log level for every component.", kLevels},
      {"log.format",
       Type::Enum,
       "text",
       "text: one human-readable line per event; json: one JSON object per line.",
       {"text", "json"}},
      {"log.components", Type::LevelMap, nlohmann::json::object(),
       "Per-component log levels, e.g. {\"storage\": \"debug\", \"plugin.local\": \"warn\"}."},
      {"log.tail_lines",
       Type::Int,
       1000,
       "Log lines kept in memory for gateway administrators (operator.v1 logs.tail, the web "
       "client's health page). 0: none kept, logs.tail answers UNAVAILABLE.",
       {},
       0,
       100000},
      {"plugins.dirs", Type::StringList, nlohmann::json::array(),
       "Extra directories searched for plugin modules (vespid-*.so), after the gateway's own "
       "<prefix>/lib/vespid/plugins."},
      {"plugins.instances", Type::Instances, default_instances(),
       "The plugin instances to run, in start order: [{\"name\", \"plugin\", \"config\", "
       "\"required\"}]. An explicit list replaces the default one."},
      {"listen.api_port",
       Type::Int,
       0,
       "Port of the instance named \"api\" (the HTTP API, 3001 in the default list), in the "
       "default "
       "or an explicit instance list. 0: the instance's own config.port.",
       {},
       0,
       65535},
      {"listen.ws_port",
       Type::Int,
       0,
       "Port of the instance named \"ws\" (the WebSockets, 3002 in the default list). 0: the "
       "instance's own config.port.",
       {},
       0,
       65535},
      {"listen.bridge_port",
       Type::Int,
       0,
       "Port of the instance named \"bridge\" (bridge.v1, 18790 by default). 0: the instance's "
       "own config.port.",
       {},
       0,
       65535},
      {"listen.web_port",
       Type::Int,
       0,
       "Port of the instance named \"web\" (the web control client, 3000 in the default list). "
       "0: the instance's own config.port.",
       {},
       0,
       65535},
      {"storage.max_batch",
       Type::Int,
       512,
       "Most transactions the storage thread commits in one durable batch.",
       {},
       1,
       100000},
      {"storage.defer_syncs", Type::Bool, true,
       "Let a dispatch's record go out before its sync: the execute is sent once the record is "
       "applied, and the caller answered once a sync made it durable (storage backends with "
       "ABI 1.4's commit_unsynced). false: every commit is synced before anyone hears of it."},
      {"storage.queue_depth",
       Type::Int,
       65536,
       "Most storage operations waiting for the storage thread; beyond it requests fail with "
       "UNAVAILABLE instead of growing memory.",
       {},
       16,
       10000000},
      {"limits.max_connections",
       Type::Int,
       20000,
       "Most connections open at once across all transports; more are refused at open.",
       {},
       1,
       10000000},
      {"limits.max_anonymous_per_peer",
       Type::Int,
       64,
       "Most connections one IP address may hold open before they authenticate (bridge "
       "handshakes and pairings, operator sockets without a token); more are refused at open, so "
       "one stranger cannot take limits.max_connections from everyone. REST requests carry their "
       "own credentials and do not count.",
       {},
       1,
       10000000},
      {"limits.anonymous_timeout_ms",
       Type::Int,
       10000,
       "How long an operator.v1 socket (/ws/operator) may stay unauthenticated before it is "
       "closed. Bridge connections have bridge.handshake_timeout_ms.",
       {},
       100,
       3600000},
      {"limits.connection_queue_depth",
       Type::Int,
       1024,
       "Most frames of one connection waiting to be handled; a peer that floods past it is "
       "told and disconnected.",
       {},
       1,
       1000000},
      {"limits.json_max_depth",
       Type::Int,
       64,
       "Deepest nesting of arrays and objects accepted in any JSON a peer sends (frames, "
       "request bodies, embedded paramsJSON/payloadJSON); deeper input is answered "
       "INVALID_REQUEST (BAD_REQUEST over HTTP) and never held.",
       {},
       8,
       1000},
      {"memory.heap_keep_bytes",
       Type::Int,
       8388608,
       "Freed heap each malloc arena keeps for reuse instead of returning it to the system at "
       "once; blocks up to half of it come from the heap instead of a mapping of their own. "
       "Without it, every frame of 128 KiB or more (a large invoke payload) maps fresh pages "
       "and faults each one in. The price: after a burst of large frames, up to this much more "
       "resident memory per arena. 0: glibc's own settings (GLIBC_TUNABLES included).",
       {},
       0,
       67108864},
      {"tls.cert_file", Type::String, "",
       "PEM certificate for TLS listeners. Empty: <state_dir>/tls/gateway.crt, generated "
       "self-signed on first start."},
      {"tls.key_file", Type::String, "",
       "PEM private key for tls.cert_file. Empty: <state_dir>/tls/gateway.key (0600)."},
      {"tls.generate", Type::Bool, true,
       "Generate a self-signed certificate and key when the files do not exist."},
      {"bridge.server_name", Type::String, "",
       "serverName in hello-ok. Empty: this machine's host name."},
      {"bridge.canvas_host_url", Type::String, "",
       "canvasHostUrl in hello-ok; left out when empty."},
      {"bridge.handshake_timeout_ms",
       Type::Int,
       10000,
       "How long a new bridge connection may take to send hello or pair-request.",
       {},
       100,
       3600000},
      {"bridge.ping_interval_ms",
       Type::Int,
       30000,
       "The gateway pings a bridge node that has been quiet this long.",
       {},
       100,
       3600000},
      {"bridge.idle_timeout_ms",
       Type::Int,
       90000,
       "A bridge node silent this long (no frame, no pong) is disconnected: half-open sockets do "
       "not linger.",
       {},
       200,
       86400000},
      {"bridge.tick_interval_ms",
       Type::Int,
       30000,
       "Every this often the gateway sends `event tick {ts}` to each authenticated bridge node "
       "(the reference's 30 s keepalive; its apps poll health on it).",
       {},
       100,
       3600000},
      {"pairing.ttl_ms",
       Type::Int,
       300000,
       "How long a pairing request waits for an operator's decision.",
       {},
       1000,
       86400000},
      {"pairing.max_pending",
       Type::Int,
       1000,
       "Most bridge pairing requests waiting on this gateway at once; more are refused with "
       "UNAVAILABLE.",
       {},
       1,
       1000000},
      {"pairing.max_pending_per_peer",
       Type::Int,
       4,
       "Most pairing requests waiting from one network address (IP) at once, so that one "
       "stranger cannot fill pairing.max_pending; more are refused with UNAVAILABLE.",
       {},
       1,
       1000000},
      {"pairing.max_claims_bytes",
       Type::Int,
       16384,
       "Largest pair-request (its claims: name, platform, caps, commands...), in bytes of JSON; "
       "larger ones are refused with INVALID_REQUEST.",
       {},
       256,
       1048576},
      {"invoke.default_timeout_ms",
       Type::Int,
       30000,
       "Timeout of an invoke whose caller gave none.",
       {},
       1,
       3600000},
      {"invoke.max_timeout_ms",
       Type::Int,
       600000,
       "Longest timeout a caller may ask for.",
       {},
       1,
       86400000},
      {"invoke.max_in_flight_per_node",
       Type::Int,
       1024,
       "Most invokes waiting on one node; more fail at once with UNAVAILABLE.",
       {},
       1,
       1000000},
      {"internal.token",
       Type::String,
       "",
       "The service token workers present in x-gateway-token on /internal/v1 routes (at least "
       "16 characters). Empty: the internal routes answer 503 INTERNAL_ROUTES_DISABLED. Set it "
       "through VESPID_INTERNAL_TOKEN rather than a file.",
       {},
       0,
       0,
       true},
      {"metrics.enabled", Type::Bool, true,
       "Serve GET /metrics (Prometheus text format) on the listeners that route it (the api "
       "instance by default). false: /metrics answers 404."},
      {"metrics.token",
       Type::String,
       "",
       "A bearer token /metrics requires from every peer (at least 16 characters). Empty: "
       "loopback peers need none and others are refused. Set it through VESPID_METRICS_TOKEN "
       "rather than a file.",
       {},
       0,
       0,
       true},
      {"agents.pairing_token_ttl_ms",
       Type::Int,
       900000,
       "How long a node-host pairing token stays usable (single use).",
       {},
       10000,
       604800000},
      {"agents.max_pairing_tokens_per_org",
       Type::Int,
       100,
       "Most unused, unexpired pairing tokens one org may hold; more are refused with "
       "UNAVAILABLE.",
       {},
       1,
       100000},
      {"agents.gateway_ws_url", Type::String, "",
       "gatewayWsUrl answered to a host that pairs. Empty: derived from the request's Host and "
       "the listener that serves /ws (e.g. ws://127.0.0.1:3002/ws). Set it behind a proxy."},
      {"cluster.instance_id", Type::String, "",
       "This instance's name among the gateway instances sharing one store and bus (letters, "
       "digits, '-', '_'; at most 64). Empty: generated once and kept in <state_dir>/instance-id. "
       "Must stay the same across restarts: dispatch records name the instance waiting for them."},
      {"cluster.subject_prefix", Type::String, "vespid",
       "First token of every bus subject the instances use, so that several deployments can "
       "share one NATS server."},
      {"cluster.heartbeat_ms",
       Type::Int,
       1000,
       "How often an instance tells the others over the bus that it is alive.",
       {},
       100,
       60000},
      {"cluster.lease_ms",
       Type::Int,
       5000,
       "How long after an instance's last heartbeat the others treat it as dead: its nodes are "
       "offline there and invokes waiting on it fail. At least twice cluster.heartbeat_ms.",
       {},
       300,
       600000},
      {"dispatch.default_timeout_ms",
       Type::Int,
       60000,
       "Timeout of a dispatch that gives no timeoutMs; then the result is a failed "
       "NODE_EXECUTION_TIMEOUT.",
       {},
       1000,
       86400000},
      {"dispatch.max_timeout_ms",
       Type::Int,
       600000,
       "Longest timeoutMs a dispatch may ask for.",
       {},
       1000,
       86400000},
      {"dispatch.default_max_in_flight",
       Type::Int,
       10,
       "Dispatches one node host runs at once when its hello gives no capabilities.maxInFlight.",
       {},
       1,
       100000},
      {"dispatch.max_outstanding",
       Type::Int,
       100000,
       "Most dispatches waiting for results across the gateway; more are refused with "
       "UNAVAILABLE.",
       {},
       1,
       10000000},
      {"dispatch.results_ttl_ms",
       Type::Int,
       900000,
       "How long a dispatch result is kept for GET /internal/v1/results (it survives restarts).",
       {},
       30000,
       604800000},
      {"dispatch.result_cache_bytes",
       Type::Int,
       4194304,
       "Bytes of host results this instance stored lately kept in memory, so that the reads "
       "that follow them (a worker's long-poll) do not go to storage; counted by their stored "
       "text, request id and bookkeeping, the oldest dropped first; 0 keeps none.",
       {},
       0,
       1073741824},
      {"sessions.turn_timeout_ms",
       Type::Int,
       300000,
       "Dispatch timeout of one session turn (agent.run); then the session gets an error event "
       "NODE_EXECUTION_TIMEOUT.",
       {},
       1000,
       86400000},
      {"sessions.history_messages",
       Type::Int,
       50,
       "Previous user and agent messages sent to the node host with each session turn.",
       {},
       0,
       1000},
      {"sessions.history_max_bytes",
       Type::Int,
       524288,
       "Most bytes of message text sent as history with a session turn (the newest messages are "
       "kept): with the turn's own message it must fit the node host's frame limit.",
       {},
       0,
       16777216},
      {"sessions.github_api_base_url", Type::String, "https://api.github.com",
       "env.githubApiBaseUrl of every session turn's agent.run payload (the reference node agent "
       "requires a URL there; its GitHub connector calls it)."},
      {"sessions.node_main_engine", Type::String, "vespid.loop.v1",
       "Engine of the session a bridge node's sessionKey \"main\" makes on first use."},
      {"sessions.node_main_model", Type::String, "",
       "Model of that session (empty: the node host's default, gpt-4.1-mini for "
       "vespid.loop.v1)."},
      {"workflows.max_attempts",
       Type::Int,
       3,
       "Attempts of one workflow run: a worker retries a run whose node failed (with exponential "
       "backoff) until this many were made, then the run fails.",
       {},
       1,
       100},
      {"workflows.lease_ms",
       Type::Int,
       30000,
       "Lease of a worker on the run it claimed, unless its claim asks for another: a worker that "
       "stops renewing (it died) loses the run this long after its last checkpoint, and another "
       "worker takes it over from there.",
       {},
       1000,
       600000},
      {"workflows.cron_check_interval_ms",
       Type::Int,
       10000,
       "Longest time between two looks for due cron ticks (the next known tick is looked at "
       "when it falls due; this bounds how late a tick scheduled by another gateway instance "
       "fires).",
       {},
       100,
       3600000},
      {"workflows.max_state_bytes",
       Type::Int,
       262144,
       "Largest JSON a run's input, cursor or output may be (a start or checkpoint carrying more "
       "is refused with BAD_REQUEST).",
       {},
       1024,
       16777216},
      {"sessions.replay_default",
       Type::Int,
       200,
       "Events replayed to a vespid.client.v1 session_join that gives no afterSeq.",
       {},
       1,
       10000},
      {"web.url", Type::String, "http://127.0.0.1:3000",
       "Where people open the web control client; `vespid web login` links point here unless "
       "it is given --url. Behind a proxy, the proxy's public URL."},
      {"web.dir", Type::String, "",
       "The web control client's files, served where an instance's static_dir is \"@web\". "
       "Empty: the ones installed with the gateway, <prefix>/share/vespid/web."},
      {"web.login_code_ttl_ms",
       Type::Int,
       600000,
       "How long a one-time sign-in link (`vespid web login`) can be used; it also stops "
       "working once used.",
       {},
       1,
       86400000},
      {"web.session_ttl_ms",
       Type::Int,
       43200000,
       "How long a web session (the vespid_session cookie) lasts from sign-in. Absolute, not "
       "sliding: using it does not extend it.",
       {},
       1000,
       2592000000},
      {"web.max_sessions_per_user",
       Type::Int,
       20,
       "Web sessions one user may hold at once; signing in beyond it ends that user's oldest "
       "session.",
       {},
       1,
       10000},
      {"web.allowed_origins", Type::StringList, nlohmann::json::array(),
       "Origins (scheme://host[:port]) besides the request's own Host whose pages may use the "
       "session cookie for state-changing requests and WebSocket upgrades (a proxy that rewrites "
       "Host, say). Empty: the gateway's own pages only."},
      {"web.secure_cookie",
       Type::Enum,
       "auto",
       "auto: the session cookie is Secure when the sign-in came over TLS; always: Secure even "
       "when it did not (a proxy terminates TLS in front of the gateway).",
       {"auto", "always"}},
      {"discovery.bridge_service_types", Type::StringList,
       nlohmann::json::array({"_vespid-bridge._tcp"}),
       "DNS-SD service types a bridge listener bound beyond loopback is published under; add "
       "\"_clawdbot-bridge._tcp\" to answer the reference clients too."},
      {"discovery.gateway_service_types", Type::StringList,
       nlohmann::json::array({"_vespid-gw._tcp"}),
       "DNS-SD service types the WebSocket gateway is published under."},
      {"discovery.minimal", Type::Bool, false,
       "Publish only role and ports in TXT records (no names, host, TLS pins or tailnet name)."},
      {"discovery.display_name", Type::String, "",
       "Service instance name and displayName TXT. Empty: \"Vespid Gateway on <host name>\"."},
      {"discovery.tailnet_dns", Type::String, "",
       "tailnetDns TXT (this machine's MagicDNS name). Empty: asked of the netbind plugin."},
      {"shutdown.timeout_ms",
       Type::Int,
       10000,
       "How long a graceful shutdown waits for plugins to drain before giving up.",
       {},
       0,
       3600000},
  };
  return keys;
}

const KeySpec* find_key(const std::string& path) {
  for (const auto& k : schema()) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

std::string env_name(const std::string& path) {
  std::string out = "VESPID_";
  for (char c : path) {
    out.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace vespid::config
