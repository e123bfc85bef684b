// Files under static_dir for the static route: GET and HEAD only, content-type from the
// extension, index.html for directories, nothing outside the directory (".." segments are
// refused and symlinks must resolve inside it).
#pragma once

#include <boost/beast/http/message_generator.hpp>
#include <string>
#include <string_view>

#include "http_io.hpp"

namespace vespid::ws {

class StaticFiles {
 public:
  StaticFiles() = default;
  // Throws vsp::Error when `dir` is not a readable directory.
  explicit StaticFiles(const std::string& dir);

  bool enabled() const noexcept { return !root_.empty(); }
  const std::string& root() const noexcept { return root_; }

  // The whole response for a request whose path matched the static route.
  http::message_generator serve(const Request& req, std::string_view raw_path) const;

 private:
  std::string root_;  // canonical, no trailing slash
};

// "text/html; charset=utf-8" for "index.html"; application/octet-stream when unknown.
std::string_view content_type_for(std::string_view path);

}  // namespace vespid::ws
