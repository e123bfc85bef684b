#include "rest_codec.hpp"

#include <boost/beast/http/field.hpp>
#include <nlohmann/json.hpp>

#include "json_scan.hpp"
#include "json_write.hpp"

namespace vespid::ws {

namespace {

using nlohmann::json;

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

bool valid_value(std::string_view value) {
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

// Connection management belongs to the transport: these headers from the core are ignored.
bool hop_by_hop(std::string_view lower) {
  return lower == "content-length" || lower == "transfer-encoding" || lower == "connection" ||
         lower == "keep-alive" || lower == "upgrade" || lower == "te" || lower == "trailer";
}

bool is_lowercase(std::string_view s) {
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') return false;
  }
  return true;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Response internal_error(unsigned version, bool keep_alive, bool head) {
  Response res = json_error(http::status::internal_server_error, version, keep_alive, "INTERNAL",
                            "the gateway produced a malformed response");
  if (head) res.body().clear();
  return res;
}

// Content-type defaulted, keep-alive, content-length; HEAD keeps the length and drops the body.
void finish(Response& res, unsigned status, bool has_content_type, bool keep_alive, bool head) {
  if (status == 204 || status == 304) res.body().clear();  // these never carry a body
  if (!has_content_type && !res.body().empty()) {
    res.set(http::field::content_type, "application/json");
  }
  res.keep_alive(keep_alive);
  res.prepare_payload();
  if (head) res.body().clear();  // content-length stays: it is what a GET would have carried
}

// Deep enough for any body the core writes; a deeper one takes the DOM path.
constexpr int kScanDepth = 256;

// The answer read without a DOM, from one scan of its text: the common shape (an integer
// status, string header values, a body that is a string or a JSON value) and nothing else.
// nullopt for anything else, which the DOM path then reads, errors and their messages included.
std::optional<Response> read_typed(std::string_view text, unsigned version, bool keep_alive,
                                   bool head) {
  const auto doc = json_scan::scan_object(text, kScanDepth);
  if (!doc || doc->has_escaped_key() || doc->has_duplicate_key()) return std::nullopt;
  unsigned status = 200;
  if (const json_scan::Value* v = doc->find("status")) {
    const auto n = v->int64();
    if (!n || *n < 200 || *n > 599) return std::nullopt;
    status = static_cast<unsigned>(*n);
  }
  Response res{static_cast<http::status>(status), version};
  bool has_content_type = false;
  if (const json_scan::Value* v = doc->find("headers"); v && v->kind != json_scan::Kind::Null) {
    if (v->kind != json_scan::Kind::Object) return std::nullopt;
    const auto headers = json_scan::scan_object(v->raw, kScanDepth);
    if (!headers || headers->has_escaped_key() || headers->has_duplicate_key()) {
      return std::nullopt;
    }
    std::string value;
    for (std::size_t i = 0; i < headers->size(); ++i) {
      const json_scan::Member& m = (*headers)[i];
      // Names as the core writes them, lowercase: two keys cannot then name one header, whose
      // values the DOM path would add in its own (sorted) order.
      if (!valid_name(m.key) || !is_lowercase(m.key) || !m.value.string_value(value) ||
          !valid_value(value)) {
        return std::nullopt;
      }
      if (hop_by_hop(m.key)) continue;
      res.insert(m.key, value);
      if (m.key == "content-type") has_content_type = true;
    }
  }
  if (const json_scan::Value* v = doc->find("body"); v && v->kind != json_scan::Kind::Null) {
    // A string holds the body's text; any other JSON value is the body, sent as written.
    if (!v->string_value(res.body())) res.body().assign(v->raw);
  }
  finish(res, status, has_content_type, keep_alive, head);
  return res;
}

}  // namespace

std::string make_envelope(const Request& req, const Target& target) {
  const std::string& body = req.body();
  const std::string headers = headers_json(req.base());
  const std::string_view method = req.method_string();
  std::string out;
  if (!json_write::valid_utf8(method) || !json_write::valid_utf8(target.path) ||
      !json_write::valid_utf8(target.query)) {
    // Bytes that are not UTF-8 in the request line: replaced, as dump() does.
    json env = {
        {"method", std::string(method)},
        {"path", std::string(target.path)},
        {"query", std::string(target.query)},
        {"headers", json::parse(headers)},
    };
    out = env.dump(-1, ' ', false, json::error_handler_t::replace);
  } else {
    // Written as text, members in name order (as an nlohmann object would dump them).
    out.reserve(64 + headers.size() + target.path.size() + target.query.size() + body.size());
    out += R"({"headers":)";
    out += headers;
    out += R"(,"method":)";
    json_write::append_string(out, method);
    out += R"(,"path":)";
    json_write::append_string(out, target.path);
    out += R"(,"query":)";
    json_write::append_string(out, target.query);
    out.push_back('}');
  }
  // Neither writer puts a raw newline in its text: the first one ends the envelope.
  out.push_back('\n');
  out += body;
  return out;
}

Response decode_response(std::string_view text, unsigned version, bool keep_alive, bool head,
                         std::string* problem) {
  if (auto res = read_typed(text, version, keep_alive, head)) return std::move(*res);
  return decode_response_dom(text, version, keep_alive, head, problem);
}

Response decode_response_dom(std::string_view text, unsigned version, bool keep_alive, bool head,
                             std::string* problem) {
  auto fail = [&](std::string why) {
    if (problem) *problem = std::move(why);
    return internal_error(version, keep_alive, head);
  };
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return fail(std::string("rest.v1 response is not JSON: ") + e.what());
  }
  if (!doc.is_object()) return fail("rest.v1 response is not a JSON object");

  unsigned status = 200;
  if (auto it = doc.find("status"); it != doc.end()) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() < 200 || it->get<uint64_t>() > 599) {
      return fail("rest.v1 response \"status\" must be an integer from 200 to 599, got " +
                  it->dump());
    }
    status = static_cast<unsigned>(it->get<uint64_t>());
  }
  Response res{static_cast<http::status>(status), version};

  bool has_content_type = false;
  if (auto it = doc.find("headers"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) return fail("rest.v1 response \"headers\" must be an object");
    for (const auto& [name, value] : it->items()) {
      const std::string lower = lowercase(name);
      if (!valid_name(name))
        return fail("rest.v1 response header name \"" + name + "\" is invalid");
      if (hop_by_hop(lower)) continue;
      auto add = [&](const json& v) -> bool {
        std::string s;
        if (v.is_string()) {
          s = v.get<std::string>();
        } else if (v.is_number() || v.is_boolean()) {
          s = v.dump();
        } else {
          return false;
        }
        if (!valid_value(s)) return false;
        res.insert(lower, s);
        return true;
      };
      bool ok = true;
      if (value.is_array()) {
        for (const auto& v : value) ok = ok && add(v);
      } else {
        ok = add(value);
      }
      if (!ok) return fail("rest.v1 response header \"" + name + "\" has an invalid value");
      if (lower == "content-type") has_content_type = true;
    }
  }

  if (auto it = doc.find("body"); it != doc.end() && !it->is_null()) {
    // A body that is JSON rather than a string holding JSON is accepted as the JSON it is.
    res.body() = it->is_string() ? it->get<std::string>() : it->dump();
  }
  finish(res, status, has_content_type, keep_alive, head);
  return res;
}

}  // namespace vespid::ws
