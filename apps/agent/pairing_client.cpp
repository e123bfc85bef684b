#include "pairing_client.hpp"

#include "dial_url.hpp"  // libs/url
#include "http_client.hpp"

namespace vespid::agent {

namespace {

std::string excerpt(const std::string& body) {
  constexpr std::size_t kMax = 300;
  return body.size() <= kMax ? body : body.substr(0, kMax) + "...";
}

std::string answer_string(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
    throw std::runtime_error(std::string("the pairing answer has no \"") + key + "\"");
  }
  return it->get<std::string>();
}

}  // namespace

PairingRefused::PairingRefused(int status_, std::string code_, std::string message_)
    : std::runtime_error("pairing refused (HTTP " + std::to_string(status_) + " " + code_ +
                         "): " + message_),
      status(status_),
      code(std::move(code_)),
      message(std::move(message_)) {}

Credentials pair_agent(const PairingRequest& req) {
  nlohmann::json body = {
      {"pairingToken", req.pairing_token}, {"name", req.name}, {"agentVersion", req.agent_version}};
  if (!req.capabilities.is_null()) body["capabilities"] = req.capabilities;
  if (!req.tags.empty()) body["tags"] = req.tags;

  HttpRequest http;
  http.method = "POST";
  http.url = join_url(req.api_url, "/v1/agents/pair");
  http.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  http.body = body.dump();
  http.total_timeout = std::chrono::seconds(30);
  http.tls_pin_sha256 = req.tls_pin_sha256;
  const HttpResponse res = http_fetch(http);

  nlohmann::json answer = nlohmann::json::parse(res.body, nullptr, false);
  if (res.status < 200 || res.status >= 300) {
    if (answer.is_object() && answer.contains("code")) {
      throw PairingRefused(res.status, answer.value("code", std::string()),
                           answer.value("message", std::string()));
    }
    throw PairingRefused(res.status, "HTTP_" + std::to_string(res.status), excerpt(res.body));
  }
  if (!answer.is_object()) {
    throw std::runtime_error("the pairing answer is not a JSON object: " + excerpt(res.body));
  }
  Credentials c;
  c.agent_id = answer_string(answer, "agentId");
  c.agent_token = answer_string(answer, "agentToken");
  c.organization_id = answer_string(answer, "organizationId");
  c.gateway_ws_url = answer_string(answer, "gatewayWsUrl");
  c.api_url = req.api_url;
  c.name = req.name;
  c.tags = req.tags;
  return c;
}

}  // namespace vespid::agent
