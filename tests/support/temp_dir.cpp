#include "temp_dir.hpp"

#include <stdlib.h>
#include <sys/un.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace vespid::test {

namespace {

std::string temp_root() {
  const char* tmp = std::getenv("TMPDIR");
  std::string root = (tmp != nullptr && *tmp == '/') ? tmp : "/tmp";
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  // Tests put the gateway's socket in here: <root>/<prefix>-XXXXXX/gateway.sock must fit in
  // sun_path, so leave room for a prefix, the suffix and a socket name.
  if (root.size() + 64 >= sizeof(sockaddr_un{}.sun_path)) root = "/tmp";
  return root;
}

}  // namespace

TempDir::TempDir(std::string_view prefix) {
  std::string tmpl = temp_root() + "/" + std::string(prefix) + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error("mkdtemp(" + tmpl + ") failed: " + std::strerror(errno));
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  const char* keep = std::getenv("VESPID_KEEP_TEST_DIRS");
  if (keep != nullptr && std::string_view(keep) == "1") {
    std::cerr << "[vespid-test] keeping " << path_ << '\n';
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(std::string_view name) const {
  return path_ + "/" + std::string(name);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace vespid::test
