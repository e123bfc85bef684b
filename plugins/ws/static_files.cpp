#include "static_files.hpp"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/file_body.hpp>
#include <vespid/plugin.hpp>

#include "request_facts.hpp"

namespace vespid::ws {

namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::string> real_path(const std::string& p) {
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf) == nullptr) return std::nullopt;
  return std::string(buf);
}

http::message_generator error(const Request& req, http::status status, std::string_view code,
                              std::string_view message) {
  Response res = json_error(status, req.version(), req.keep_alive(), code, message);
  if (req.method() == http::verb::head) res.body().clear();
  return http::message_generator(std::move(res));
}

// The static route serves the web control client, whose pages load nothing from elsewhere and
// run no inline script: a strict policy means an injected <script> or a framing page gets
// nowhere. 'self' covers same-origin ws:// and wss:// in connect-src.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'";

template <class Response>
void set_page_headers(Response& res, std::string_view type) {
  res.set(http::field::content_type, type);
  res.set("Content-Security-Policy", kContentSecurityPolicy);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Frame-Options", "DENY");
  // Pages and modules change with every upgrade and are small: revalidate rather than cache.
  res.set(http::field::cache_control, "no-cache");
}

}  // namespace

std::string_view content_type_for(std::string_view path) {
  const auto slash = path.rfind('/');
  const auto dot = path.rfind('.');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return "application/octet-stream";
  }
  const std::string ext = lowercase(path.substr(dot + 1));
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"txt", "text/plain; charset=utf-8"},
      {"xml", "application/xml"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"avif", "image/avif"},
      {"ico", "image/vnd.microsoft.icon"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"otf", "font/otf"},
      {"wasm", "application/wasm"},
      {"pdf", "application/pdf"},
  };
  for (const auto& [e, type] : kTypes) {
    if (e == ext) return type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(const std::string& dir) {
  auto root = real_path(dir);
  struct stat st {};
  if (!root || ::stat(root->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw vsp::Error(VSP_E_INVALID,
                     "ws: config key \"static_dir\" must name a directory, got \"" + dir + "\"");
  }
  root_ = *root == "/" ? std::string() : *root;
  if (root_.empty()) {
    throw vsp::Error(VSP_E_INVALID, "ws: config key \"static_dir\" must not be \"/\"");
  }
}

http::message_generator StaticFiles::serve(const Request& req, std::string_view raw_path) const {
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    Response res = json_error(http::status::method_not_allowed, req.version(), req.keep_alive(),
                              "METHOD_NOT_ALLOWED", "static files answer GET and HEAD only");
    res.set(http::field::allow, "GET, HEAD");
    return http::message_generator(std::move(res));
  }
  const auto decoded = percent_decode(raw_path, false);
  if (!decoded || decoded->find('\0') != std::string::npos ||
      decoded->find('\\') != std::string::npos) {
    return error(req, http::status::bad_request, "BAD_REQUEST", "malformed path");
  }

  // Rebuild the path from its segments; any ".." is refused outright rather than resolved.
  std::string rel;
  std::size_t pos = 0;
  while (pos <= decoded->size()) {
    const auto next = decoded->find('/', pos);
    const std::string_view seg = std::string_view(*decoded).substr(
        pos, next == std::string::npos ? std::string::npos : next - pos);
    if (seg == "..") {
      return error(req, http::status::forbidden, "FORBIDDEN", "path leaves the static directory");
    }
    if (!seg.empty() && seg != ".") {
      rel += '/';
      rel += seg;
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }

  std::string candidate = root_ + rel;
  struct stat st {};
  if (::stat(candidate.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) candidate += "/index.html";
  const auto resolved = real_path(candidate);
  if (!resolved) {
    return error(req, http::status::not_found, "NOT_FOUND", "no file for " + std::string(raw_path));
  }
  // A symlink that points out of the directory is as good as "..".
  if (resolved->compare(0, root_.size() + 1, root_ + "/") != 0) {
    return error(req, http::status::forbidden, "FORBIDDEN", "path leaves the static directory");
  }
  if (::stat(resolved->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return error(req, http::status::not_found, "NOT_FOUND", "no file for " + std::string(raw_path));
  }

  http::file_body::value_type file;
  beast::error_code ec;
  file.open(resolved->c_str(), beast::file_mode::scan, ec);
  if (ec) {
    return error(req, http::status::not_found, "NOT_FOUND", "no file for " + std::string(raw_path));
  }
  const auto size = file.size();
  const std::string_view type = content_type_for(*resolved);
  if (req.method() == http::verb::head) {
    http::response<http::empty_body> res{http::status::ok, req.version()};
    set_page_headers(res, type);
    res.content_length(size);
    res.keep_alive(req.keep_alive());
    return http::message_generator(std::move(res));
  }
  http::response<http::file_body> res{std::piecewise_construct, std::make_tuple(std::move(file)),
                                      std::make_tuple(http::status::ok, req.version())};
  set_page_headers(res, type);
  res.content_length(size);
  res.keep_alive(req.keep_alive());
  return http::message_generator(std::move(res));
}

}  // namespace vespid::ws
