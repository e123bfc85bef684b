// The ws plugin's HTTP side (plugins/ws): bytes off a connection become requests through
// Boost.Beast's parser with the plugin's limits (max_header_bytes, max_body_bytes; keep-alive
// requests one after the other), then the plugin's own code reads them as HttpSession and
// WsSession do: the route (routes.cpp), the origin-form target, path and query decoding, the
// bearer token and org hint, the headers as JSON (request_facts.cpp), the rest.v1 envelope
// (rest_codec.cpp) and static files (static_files.cpp, over a real directory with a symlink
// pointing out of it and a file beside it that must never be served).
//
// Invariants: headers_json is a JSON object with lowercase names; a bearer token is never empty
// nor padded; the envelope is a JSON head up to its first newline, which the core's own reader
// (json_input::parse) takes back with the request's method, path, query and headers (joined as
// a DOM would join them), then the body's bytes unchanged; nothing outside the static directory
// is ever served.
#include <stdlib.h>
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "check.hpp"
#include "config.hpp"
#include "json_util.hpp"
#include "request_facts.hpp"
#include "rest_codec.hpp"
#include "routes.hpp"
#include "runtime/json_input.hpp"
#include "static_files.hpp"

namespace {

namespace ws = vespid::ws;
namespace http = boost::beast::http;
using nlohmann::json;

constexpr std::string_view kSecret = "SECRET-OUTSIDE-THE-STATIC-DIR";

// <tmp>/www (served: index.html, app.js, sub/index.html, out -> ../secret.txt, in -> app.js)
// and <tmp>/secret.txt beside it.
std::string make_static_tree() {
  char tmpl[] = "/tmp/vespid-fuzz-static-XXXXXX";
  const std::string base = ::mkdtemp(tmpl);
  namespace fs = std::filesystem;
  fs::create_directories(base + "/www/sub");
  std::ofstream(base + "/www/index.html") << "<p>index</p>";
  std::ofstream(base + "/www/app.js") << "console.log(1)";
  std::ofstream(base + "/www/sub/index.html") << "<p>sub</p>";
  std::ofstream(base + "/secret.txt") << kSecret;
  fs::create_symlink("../secret.txt", base + "/www/out");
  fs::create_symlink("app.js", base + "/www/in");
  static std::string to_remove;
  to_remove = base;
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(to_remove, ec);
  });
  return base + "/www";
}

std::string serialize(http::message_generator gen) {
  std::string out;
  boost::beast::error_code ec;
  while (!gen.is_done()) {
    auto bufs = gen.prepare(ec);
    FUZZ_CHECK(!ec, "a static response that cannot be written");
    std::size_t n = 0;
    for (const auto& b : bufs) {
      out.append(static_cast<const char*>(b.data()), b.size());
      n += b.size();
    }
    gen.consume(n);
  }
  return out;
}

void check_request(const ws::Request& req, const ws::RouteTable& routes,
                   const ws::StaticFiles& files) {
  const std::string headers = ws::headers_json(req.base());
  const auto h = vespid::fuzz::parse_strict(headers);
  FUZZ_CHECK(h && h->is_object(), "headers_json is not a JSON object");
  for (const auto& [name, value] : h->items()) {
    for (char c : name) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'), "a header name not lowercased");
    FUZZ_CHECK(value.is_string(), "a header value that is not a string");
  }
  if (const auto token = ws::bearer_token(req.base())) {
    FUZZ_CHECK(!token->empty(), "an empty bearer token");
    const char first = token->front(), last = token->back();
    FUZZ_CHECK(first != ' ' && first != '\t' && last != ' ' && last != '\t', "a padded token");
  }
  (void)boost::beast::websocket::is_upgrade(req);

  const auto target = ws::split_target(req.target());
  if (!target) return;  // 400 in the plugin
  FUZZ_CHECK(!target->path.empty() && target->path.front() == '/', "a path that is not one");
  (void)ws::query_param(target->query, "orgId");
  (void)ws::percent_decode(target->path, false);
  (void)ws::percent_decode(target->query, true);

  const ws::Route* route = routes.match(target->path);
  if (route != nullptr && route->kind == ws::Route::Kind::Static) {
    const std::string res = serialize(files.serve(req, target->path));
    // A 404 names the path it was asked for: only a target without the marker proves a leak.
    if (std::string_view(req.target().data(), req.target().size()).find(kSecret) ==
        std::string_view::npos) {
      FUZZ_CHECK(res.find(kSecret) == std::string::npos, "a file outside static_dir was served");
    }
  }

  // The envelope, a newline, the body's bytes (VSP_CONN_REST_RAW_BODY): whatever the body holds,
  // the first newline ends the envelope.
  const std::string envelope = ws::make_envelope(req, *target);
  const std::size_t newline = envelope.find('\n');
  FUZZ_CHECK(newline != std::string::npos, "no newline after the envelope");
  FUZZ_CHECK(std::string_view(envelope).substr(newline + 1) == req.body(),
             "the body after the envelope is not the request's bytes");
  json env;
  try {
    env = vespid::core::json_input::parse(std::string_view(envelope).substr(0, newline));
  } catch (const json::parse_error&) {
    FUZZ_CHECK(false, "the core cannot read the envelope");
  }
  FUZZ_CHECK(!env.contains("body"), "a body member beside the body's bytes");
  // Path, query and header bytes that are not UTF-8 are replaced (U+FFFD) on purpose: compare
  // those that are.
  auto same = [](const json& got, std::string_view sent) {
    return !vespid::fuzz::utf8_valid(sent) || got == std::string(sent);
  };
  FUZZ_CHECK(same(env["method"], req.method_string()), "the envelope's method");
  FUZZ_CHECK(same(env["path"], target->path), "the envelope's path");
  FUZZ_CHECK(same(env["query"], target->query), "the envelope's query");
  FUZZ_CHECK(env["method"].is_string() && env["path"].is_string() && env["query"].is_string(),
             "the envelope's method, path and query are strings");
  FUZZ_CHECK(env["headers"].is_object(), "the envelope's headers");
  // The headers as a DOM would join them (names lowercased, repeats joined in order), where
  // every byte of them is UTF-8.
  json joined = json::object();
  bool headers_utf8 = true;
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string_view value = f.value();
    headers_utf8 =
        headers_utf8 && vespid::fuzz::utf8_valid(name) && vespid::fuzz::utf8_valid(value);
    auto it = joined.find(name);
    if (it == joined.end()) {
      joined[name] = std::string(value);
    } else {
      it->get_ref<std::string&>() += name == "cookie" ? "; " : ", ";
      it->get_ref<std::string&>() += value;
    }
  }
  if (headers_utf8) FUZZ_CHECK(env["headers"] == joined, "the envelope's headers, joined");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ws::RouteTable* routes = new ws::RouteTable(ws::default_routes(true));
  static const ws::StaticFiles* files = new ws::StaticFiles(make_static_tree());
  const ws::Config defaults;

  boost::asio::const_buffer rest(data, size);
  // As HttpSession::read_request: one parser per request, the configured limits, and the next
  // request read from what is left (keep-alive, pipelining).
  for (int i = 0; i < 8 && rest.size() > 0; ++i) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(defaults.max_header_bytes));
    parser.body_limit(defaults.max_body_bytes);
    parser.eager(true);
    boost::beast::error_code ec;
    // As http::async_read does: put() sees unconsumed bytes again only once more have
    // arrived, and the end of the stream is put_eof(). Here every byte is there from the start,
    // so need_more means the peer closed. (Calling put() again on the same bytes is outside
    // Beast's contract: it trips an assertion in parse_chunk_header.)
    while (!parser.is_done()) {
      const std::size_t used = rest.size() == 0 ? 0 : parser.put(rest, ec);
      rest += used;
      if (rest.size() == 0 || ec == http::error::need_more) {
        if (!parser.is_done()) {
          ec = {};
          parser.put_eof(ec);
        }
        break;
      }
      if (ec) break;
    }
    if (ec) return 0;  // 400/413/431 in the plugin, or the peer closed mid-request
    if (!parser.is_done()) return 0;
    const ws::Request req = parser.release();
    check_request(req, *routes, *files);
    if (!req.keep_alive()) return 0;
  }
  return 0;
}
