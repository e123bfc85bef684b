#include "protocols/rest/rest_response.hpp"

#include <optional>

#include "json_write.hpp"

namespace vespid::core {

using nlohmann::json;

namespace {

bool token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool valid_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!token_char(c)) return false;
  }
  return true;
}

bool valid_value(const std::string& value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

std::string lowercase(std::string s) {
  for (auto& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string dump(const json& j) {
  return json_write::dump(j, json::error_handler_t::replace);
}

std::string internal_error() {
  json out = {{"status", 500},
              {"headers", {{"content-type", "application/json"}, {"cache-control", "no-store"}}},
              {"body", dump({{"code", "INTERNAL"},
                             {"message", "the gateway produced a malformed response header"}})}};
  return dump(out);
}

}  // namespace

namespace {

// The headers object: the defaults, then the route's own (a default it names is replaced, not
// added to; a name it gives twice becomes an array). Empty, with *problem set, when a header
// the route gave cannot go on a header line.
std::optional<json> headers_object(const RestResponse& r, std::string* problem) {
  json headers = {{"content-type", r.content_type}, {"cache-control", "no-store"}};
  json given = json::object();
  for (const auto& [raw_name, value] : r.headers) {
    if (!valid_name(raw_name) || !valid_value(value)) {
      if (problem) *problem = "the response header \"" + raw_name + "\" is not a valid header line";
      return std::nullopt;
    }
    const std::string name = lowercase(raw_name);
    auto it = given.find(name);
    if (it == given.end()) {
      given[name] = value;
    } else {
      if (!it->is_array()) *it = json::array({*it});
      it->push_back(value);
    }
  }
  for (auto& [name, value] : given.items()) headers[name] = std::move(value);
  return headers;
}

// The headers object's text; false where a value is not UTF-8 (the caller then has dump()
// replace it). Most answers set no header of their own, and theirs is written without a DOM.
bool append_headers(std::string& out, const RestResponse& r, const json* headers) {
  if (headers != nullptr) return json_write::append_value(out, *headers);
  if (!json_write::valid_utf8(r.content_type)) return false;
  // Name order, as dump() writes an object.
  out += R"({"cache-control":"no-store","content-type":)";
  json_write::append_string(out, r.content_type);
  out.push_back('}');
  return true;
}

}  // namespace

std::string rest_response_envelope(const RestResponse& r, std::string* problem,
                                   bool json_body_as_value) {
  if (!valid_value(r.content_type)) {
    if (problem) *problem = "the response's content type is not a valid header value";
    return internal_error();
  }
  std::optional<json> headers;
  if (!r.headers.empty()) {
    headers = headers_object(r, problem);
    if (!headers) return internal_error();
  }
  const std::string body = r.raw_body ? *r.raw_body : dump(r.body);
  // Written as text, members in name order as dump() writes an object: the body is a JSON text
  // carried as a string, and escaping it was most of an envelope's cost. dump() writes valid
  // UTF-8 (it replaces what is not), so a body it wrote can go in as the value it is. Only an
  // object or an array: a string or null there would read as the body's text, or as no body,
  // where the HTTP body is their JSON text ("\"text\"", "null").
  const bool as_value =
      json_body_as_value && !r.raw_body && (r.body.is_object() || r.body.is_array());
  std::string headers_text;
  if ((as_value || json_write::valid_utf8(body)) &&
      append_headers(headers_text, r, headers ? &*headers : nullptr)) {
    std::string out;
    out.reserve(body.size() + (as_value ? 0 : body.size() / 8) + headers_text.size() + 40);
    out += R"({"body":)";
    if (as_value) {
      out += body;
    } else {
      json_write::append_string(out, body);
    }
    out += R"(,"headers":)";
    out += headers_text;
    out += R"(,"status":)";
    out += std::to_string(r.status);
    out.push_back('}');
    return out;
  }
  // Bytes that are not UTF-8 in a raw body or a header value: replaced, as dump() does.
  if (!headers) headers = headers_object(r, problem);
  return dump(json{{"status", r.status}, {"headers", std::move(*headers)}, {"body", body}});
}

}  // namespace vespid::core
