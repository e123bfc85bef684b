#include "harness.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace vespid::storage_test {

std::filesystem::path make_temp_dir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::path(testing::TempDir()) / (prefix + "-XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error("mkdtemp(" + tmpl + "): " + std::strerror(errno));
  }
  // Canonical, so paths in messages match what the test expects character for character.
  return std::filesystem::canonical(buf.data());
}

StoreHarness::StoreHarness(StorageBackend backend) : backend_(std::move(backend)) {
  plugin_ = &load_storage_plugin(backend_.module_path, backend_.plugin_id);
  dir_ = make_temp_dir("vespid-storage-" + backend_.name);
  config_ = backend_.make_config(dir_);
  host_ = std::make_unique<TestHost>(dir_);
  store_ = std::make_unique<StoreClient>(plugin_->vtbl, *host_);
}

StoreHarness::~StoreHarness() {
  store_.reset();  // closes the instance before its files go
  if (backend_.cleanup) {
    try {
      backend_.cleanup(dir_);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "backend cleanup failed: " << e.what();
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

int StoreHarness::open(std::string* message) {
  return open_with(config_, message);
}

int StoreHarness::open_with(std::string_view config, std::string* message) {
  close();
  int rc = store_->create(config, message);
  if (rc != VSP_OK) return rc;
  rc = store_->start(message);
  if (rc != VSP_OK) store_->close();  // a failed start is followed by destroy without stop
  return rc;
}

bool StoreHarness::close() {
  return store_->close();
}

}  // namespace vespid::storage_test
