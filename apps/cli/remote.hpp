// The network side of the CLI (`vespid session ...`): where the gateway is, who asks, and how a
// call finds a gateway that answers when several are given (`--api a,b`, `--gateway a,b`, the
// instances of one cluster behind no load balancer, docs/scale-out.md).
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "web_client.hpp"

namespace vespid::cli {

struct Remote {
  std::string api;      // one URL or several, comma-separated
  std::string gateway;  // the same, for the control-client WebSocket
  std::string org, token, ca_file;
  Remote();  // from VESPID_API, VESPID_GATEWAY, VESPID_ORG, VESPID_TOKEN, VESPID_CA_FILE
};

void add_remote_options(CLI::App* cmd, Remote& r, bool needs_gateway);

// Throws UsageError when --org or --token is missing.
void require_identity(const Remote& r);

// What to check when no URL of `option` answered, appended to the reasons.
std::string unreachable_hint(const char* option, const char* env, const char* what);

// "a, b,c" -> {"a", "b", "c"}. Throws UsageError for an empty list or entry.
std::vector<std::string> url_list(const std::string& urls, const char* option);

// One REST call under /v1/orgs/<org>. Each --api URL is tried in turn while it cannot be
// reached; the first that answers decides (an HTTP error is the gateway's answer, not a reason
// to ask the next one). Non-2xx answers become OperatorError with the gateway's code; no URL
// reachable is a ConnectionError naming each.
nlohmann::json rest_call(const Remote& r, const std::string& method, const std::string& path,
                         const nlohmann::json& body = nullptr);

// The control-client WebSocket on the first of `urls` that accepts it, starting at `*next` and
// going round once; `*next` is left at the URL after the one that answered, `*url` names it.
// Nothing when none could be reached (`*why` says what each said). A refusal (an HTTP answer
// other than 101) is the gateway's answer and throws OperatorError.
std::unique_ptr<web::WsClient> open_control_socket(const Remote& r,
                                                   const std::vector<std::string>& urls,
                                                   std::size_t* next, std::string* url,
                                                   std::string* why);

}  // namespace vespid::cli
