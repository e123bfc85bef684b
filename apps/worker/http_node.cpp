#include "http_node.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "dial_url.hpp"
#include "run_events.hpp"

namespace vespid::worker {

using nlohmann::json;

namespace {

const char* const kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};

bool has_header(const web::Headers& h, const std::string& name) {
  for (const auto& [k, v] : h) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < k.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(k[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return true;
  }
  return false;
}

bool is_json_media_type(std::string type) {
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type == "application/json" ||
         (type.size() > 5 && type.compare(type.size() - 5, 5, "+json") == 0);
}

}  // namespace

HttpRequestPlan plan_http_request(const json& config) {
  HttpRequestPlan p;
  if (!config.is_object()) {
    p.error = "an http.request node needs config {method, url, headers?, body?}";
    return p;
  }
  p.method = config.value("method", json("GET")).is_string() ? config.value("method", "GET") : "";
  if (std::find(std::begin(kMethods), std::end(kMethods), p.method) == std::end(kMethods)) {
    p.error = "config.method must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS";
    return p;
  }
  const json url = config.value("url", json());
  if (!url.is_string() || url.get<std::string>().empty()) {
    p.error = "config.url must be an http or https URL";
    return p;
  }
  DialUrl u;
  try {
    u = parse_dial_url(url.get<std::string>());
  } catch (const std::invalid_argument& e) {
    p.error = "config.url: " + std::string(e.what());
    return p;
  }
  if (u.scheme != "http" && u.scheme != "https") {
    p.error = "config.url must be http or https, not " + u.scheme;
    return p;
  }
  p.target.host = u.host;
  p.target.port = std::stoi(u.port);
  p.target.tls = u.tls;
  p.target.server_name = u.host;  // verified against the system's CAs; never skipped
  p.path = u.target;
  p.headers["Host"] = u.host_header();
  if (auto h = config.find("headers"); h != config.end() && !h->is_null()) {
    if (!h->is_object()) {
      p.error = "config.headers must be an object of strings";
      return p;
    }
    for (const auto& [k, v] : h->items()) {
      if (!v.is_string() || k.empty()) {
        p.error = "config.headers." + k + " must be a string";
        return p;
      }
      p.headers[k] = v.get<std::string>();
    }
  }
  if (auto b = config.find("body"); b != config.end() && !b->is_null()) {
    if (b->is_string()) {
      p.body = b->get<std::string>();
      if (!has_header(p.headers, "content-type"))
        p.headers["content-type"] = "text/plain; charset=utf-8";
    } else {
      p.body = b->dump();
      if (!has_header(p.headers, "content-type")) p.headers["content-type"] = "application/json";
    }
  }
  return p;
}

HttpNodeResult run_http_request(const json& node_spec, int64_t timeout_ms,
                                const CancelTest& cancelled) {
  HttpNodeResult r;
  const HttpRequestPlan p = plan_http_request(node_spec.value("config", json()));
  if (!p.error.empty()) {
    r.error = "INVALID_NODE_CONFIG: " + p.error;
    r.permanent = true;
    return r;
  }
  web::HttpOptions options;
  options.timeout = std::chrono::milliseconds(timeout_ms);
  options.max_body_bytes = kMaxHttpBodyBytes;
  options.cancelled = cancelled;
  const web::HttpReply reply =
      web::http_request(p.target, p.method, p.path, p.headers, p.body, options);
  const std::string url = node_spec["config"]["url"].get<std::string>();
  if (reply.status == 0) {
    if (reply.timed_out) {
      r.error = "NODE_EXECUTION_TIMEOUT: " + p.method + " " + url + " did not answer within " +
                std::to_string(timeout_ms) + " ms";
    } else if (reply.body_too_large) {
      r.error = "HTTP_RESPONSE_TOO_LARGE: " + p.method + " " + url + ": " + reply.error;
    } else if (reply.cancelled) {
      r.error = "CANCELLED: the run's lease was lost";
    } else {
      r.error = "HTTP_REQUEST_FAILED: " + p.method + " " + url + ": " + reply.error;
    }
    return r;
  }
  json body;
  if (!reply.raw_body.empty()) {
    body = valid_utf8(reply.raw_body);
    if (is_json_media_type(reply.content_type)) {
      try {
        body = json::parse(reply.raw_body);
      } catch (const json::exception&) {
        // Said JSON, is not: kept as text, so a condition can still look at it.
      }
    }
  }
  r.ok = true;
  r.output = {{"status", reply.status}, {"body", std::move(body)}};
  return r;
}

}  // namespace vespid::worker
