#include "remote.hpp"

#include <cstdlib>

#include "commands.hpp"
#include "dial_url.hpp"  // libs/url
#include "usage_error.hpp"

namespace vespid::cli {

namespace {

using nlohmann::json;

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

struct Endpoint {
  web::WebTarget target;
  std::string path;  // without a trailing '/'
};

// "http://127.0.0.1:3001", "https://gw.example:443/base", "ws://h:3002/ws/client".
Endpoint endpoint_for(const std::string& url, const std::string& ca_file) {
  DialUrl u;
  try {
    u = parse_dial_url(url);
  } catch (const std::invalid_argument& e) {
    throw UsageError(url + ": " + e.what());
  }
  Endpoint e;
  e.target.tls = u.tls;
  e.target.ca_file = ca_file;
  e.path = u.path;
  while (!e.path.empty() && e.path.back() == '/') e.path.pop_back();
  // The client connects to an address; a name is what TLS verifies.
  e.target.server_name = u.host;
  e.target.host = u.host == "localhost" ? "127.0.0.1" : u.host;
  e.target.port = std::stoi(u.port);
  return e;
}

// Boost's "connect: Connection refused [system:111 at /usr/include/boost/asio/...]" without the
// bracket, which says where in Boost the error was seen: nothing the user can act on.
std::string plain_reason(const std::string& reason) {
  const auto bracket = reason.rfind(" [");
  if (bracket == std::string::npos || reason.back() != ']') return reason;
  if (reason.find(" at ", bracket) == std::string::npos) return reason;
  return reason.substr(0, bracket);
}

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

}  // namespace

std::string unreachable_hint(const char* option, const char* env, const char* what) {
  return std::string("; is vespid-gateway running, with its ") + what + " at that address? (" +
         option + " or " + env + " names the address)";
}

Remote::Remote()
    : api(env_or("VESPID_API", "http://127.0.0.1:3001")),
      gateway(env_or("VESPID_GATEWAY", "ws://127.0.0.1:3002/ws/client")),
      org(env_or("VESPID_ORG", "")),
      token(env_or("VESPID_TOKEN", "")),
      ca_file(env_or("VESPID_CA_FILE", "")) {}

void add_remote_options(CLI::App* cmd, Remote& r, bool needs_gateway) {
  cmd->add_option("--api", r.api,
                  "The gateway's HTTP API; several, comma-separated, are tried in turn "
                  "(env VESPID_API)")
      ->capture_default_str();
  if (needs_gateway) {
    cmd->add_option("--gateway", r.gateway,
                    "The control-client WebSocket; several, comma-separated, are tried in turn "
                    "and a dropped stream goes on through the next (env VESPID_GATEWAY)")
        ->capture_default_str();
  }
  cmd->add_option("--org", r.org, "The org, by name or id (env VESPID_ORG)");
  cmd->add_option("--token", r.token, "An access token, vat_... (env VESPID_TOKEN)");
  cmd->add_option("--ca-file", r.ca_file,
                  "PEM CA to trust for https/wss, besides the system's (env VESPID_CA_FILE)");
}

void require_identity(const Remote& r) {
  if (r.org.empty()) {
    throw UsageError(
        "--org (or VESPID_ORG) is required: the org, by name or id (`vespid org list`)");
  }
  if (r.token.empty()) {
    throw UsageError(
        "--token (or VESPID_TOKEN) is required: an access token from `vespid token create "
        "--user USER --org ORG`");
  }
}

std::vector<std::string> url_list(const std::string& urls, const char* option) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = urls.find(',', start);
    std::string one = trimmed(urls.substr(start, comma - start));
    if (one.empty()) {
      throw UsageError(std::string(option) + " has an empty URL in \"" + urls +
                       "\" (several are separated by commas)");
    }
    out.push_back(std::move(one));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

json rest_call(const Remote& r, const std::string& method, const std::string& path,
               const json& body) {
  require_identity(r);
  const auto urls = url_list(r.api, "--api");
  std::string unreachable;
  for (const auto& url : urls) {
    Endpoint e = endpoint_for(url, r.ca_file);
    web::Headers h = {{"Authorization", "Bearer " + r.token}};
    web::HttpReply reply = web::http_request(e.target, method, e.path + "/v1/orgs/" + r.org + path,
                                             h, body.is_null() ? "" : body.dump());
    if (reply.status == 0) {
      unreachable += (unreachable.empty() ? "" : "; ") + url + ": " + plain_reason(reply.error);
      continue;
    }
    if (reply.status < 200 || reply.status >= 300) {
      throw OperatorError(reply.body.value("code", "HTTP_" + std::to_string(reply.status)),
                          reply.body.value("message", reply.raw_body),
                          reply.body.value("details", json()));
    }
    return reply.body;
  }
  throw ConnectionError("cannot reach " + std::string(urls.size() > 1 ? "any of " : "") +
                        unreachable + unreachable_hint("--api", "VESPID_API", "HTTP API"));
}

std::unique_ptr<web::WsClient> open_control_socket(const Remote& r,
                                                   const std::vector<std::string>& urls,
                                                   std::size_t* next, std::string* url,
                                                   std::string* why) {
  why->clear();
  for (std::size_t tried = 0; tried < urls.size(); ++tried) {
    const std::string& candidate = urls[*next % urls.size()];
    *next = (*next + 1) % urls.size();
    Endpoint e = endpoint_for(candidate, r.ca_file);
    auto ws = std::make_unique<web::WsClient>(e.target);
    json refusal;
    const int status =
        ws->connect(e.path.empty() ? "/ws/client" : e.path,
                    {{"Authorization", "Bearer " + r.token}, {"x-org-id", r.org}}, &refusal);
    if (status == 101) {
      *url = candidate;
      return ws;
    }
    if (status != 0) {
      throw OperatorError(refusal.value("code", "HTTP_" + std::to_string(status)),
                          refusal.value("message", "the gateway refused the WebSocket"), json());
    }
    *why += (why->empty() ? "" : "; ") + candidate + ": " + plain_reason(ws->close_reason());
  }
  return nullptr;
}

}  // namespace vespid::cli
