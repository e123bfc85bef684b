#include "rest_codec.hpp"

#include <boost/beast/http/field.hpp>
#include <nlohmann/json.hpp>

namespace vespid::ws {

namespace {

using nlohmann::json;

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const auto n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

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

}  // namespace

std::optional<std::string> make_envelope(const Request& req, const Target& target) {
  if (!valid_utf8(req.body())) return std::nullopt;
  json env = {
      {"method", std::string(req.method_string())},
      {"path", std::string(target.path)},
      {"query", std::string(target.query)},
      {"headers", json::parse(headers_json(req.base()))},
      {"body", req.body()},
  };
  return env.dump(-1, ' ', false, json::error_handler_t::replace);
}

Response decode_response(std::string_view text, unsigned version, bool keep_alive, bool head,
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
  if (status == 204 || status == 304) res.body().clear();  // these never carry a body
  if (!has_content_type && !res.body().empty()) {
    res.set(http::field::content_type, "application/json");
  }
  res.keep_alive(keep_alive);
  res.prepare_payload();
  if (head) res.body().clear();  // content-length stays: it is what a GET would have carried
  return res;
}

}  // namespace vespid::ws
