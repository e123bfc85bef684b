# libvespid-core: the semantics. Linked statically into vespid-gateway (and the tests).
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/version.hpp.in ${CMAKE_CURRENT_BINARY_DIR}/generated/version.hpp @ONLY)

add_library(vespid_core STATIC
  agents/agent_dialect.cpp
  agents/agent_routes.cpp
  agents/agent_store.cpp
  api/api_error.hpp
  auth/org_access.cpp
  bridge/bridge_dialect.cpp
  config/config.cpp
  config/schema.cpp
  conn/connection.cpp
  conn/hub.cpp
  crypto/crypto.cpp
  discovery/publisher.cpp
  discovery/records.cpp
  discovery/ws_services.cpp
  dispatch/dispatch_request.cpp
  dispatch/dispatch_routes.cpp
  dispatch/dispatcher.cpp
  dispatch/result_store.cpp
  gateway/gateway.cpp
  gateway/http_api.cpp
  gateway/net_instances.cpp
  gateway/state_dir.cpp
  gateway/ws_url.cpp
  json/bounded_parse.cpp
  json/json_text.cpp
  log/logging.cpp
  netbind/bind_service.cpp
  nodes/node_record.cpp
  nodes/node_router.cpp
  nodes/node_store.cpp
  operator/admin_methods.cpp
  operator/dispatch_methods.cpp
  operator/method_table.cpp
  operator/node_methods.cpp
  operator/operator_dialect.cpp
  plugin/host_api.cpp
  plugin/module_catalog.cpp
  plugin/plugin_instance.cpp
  repo/model.cpp
  repo/repository.cpp
  rest/rest_auth.cpp
  rest/rest_dialect.cpp
  runtime/deadlines.cpp
  runtime/end_of_turn.cpp
  sessions/client_dialect.cpp
  sessions/session_methods.cpp
  sessions/session_routes.cpp
  sessions/session_service.cpp
  runtime/loop.cpp
  runtime/sequencer.cpp
  storage/storage_service.cpp
  tls/tls_material.cpp
  util/time.cpp
)
target_include_directories(vespid_core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/generated)
target_compile_definitions(vespid_core PUBLIC BOOST_DLL_USE_STD_FS BOOST_ASIO_NO_DEPRECATED)
target_link_libraries(vespid_core PUBLIC
  vespid_sdk vespid_paths
  Boost::headers
  OpenSSL::Crypto
  nlohmann_json::nlohmann_json
  spdlog::spdlog
  Threads::Threads
  ${CMAKE_DL_LIBS})
vespid_warnings(vespid_core)
