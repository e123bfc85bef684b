# libvespid-core: the semantics. Linked statically into vespid-gateway (and the tests).
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/version.hpp.in ${CMAKE_CURRENT_BINARY_DIR}/generated/version.hpp @ONLY)

# Grouped by layer, lowest first; docs/design.md has the dependency rule between them and
# scripts/check_layers.py enforces it.
add_library(vespid_core STATIC
  # runtime: loop, sequencer, tasks, deadlines, logging, JSON, crypto, time, API errors
  runtime/core_entry.cpp
  runtime/heap_keep.cpp
  runtime/crypto.cpp
  runtime/name_uuid.cpp
  runtime/deadlines.cpp
  runtime/wake_list.cpp
  runtime/end_of_turn.cpp
  runtime/json_input.cpp
  runtime/json_text.cpp
  runtime/logging.cpp
  runtime/log_tail.cpp
  runtime/loop.cpp
  runtime/metrics.cpp
  runtime/gateway_metrics.cpp
  runtime/sequencer.cpp
  runtime/service_notify.cpp
  runtime/time.cpp
  runtime/time_zone.cpp
  runtime/uuid_text.cpp
  # config: the schema and the effective configuration
  config/config.cpp
  config/did_you_mean.cpp
  config/listen_ports.cpp
  config/schema.cpp
  config/web_dir.cpp
  # storage: the storage thread over the storage ABI, and the repository built on it
  storage/model.cpp
  storage/repository.cpp
  storage/storage_service.cpp
  storage/storage_commits.cpp
  # services: what the gateway does, whatever dialect asks
  services/identity/org_access.cpp
  services/identity/principal.cpp
  services/identity/web_sessions.cpp
  services/nodes/node_record.cpp
  services/nodes/host_capabilities.cpp
  services/nodes/node_router.cpp
  services/nodes/sharded_node_router.cpp
  services/nodes/status_reason.cpp
  services/nodes/node_store.cpp
  services/nodes/node_reapproval.cpp
  services/nodes/node_reference.cpp
  services/nodes/node_removal.cpp
  services/node_hosts/node_host_store.cpp
  services/node_hosts/pairing_token_ledger.cpp
  services/dispatch/dispatch_frames.cpp
  services/dispatch/dispatch_request.cpp
  services/dispatch/dispatcher.cpp
  services/dispatch/recent_results.cpp
  services/dispatch/result_store.cpp
  services/sessions/agent_run_payload.cpp
  services/workflows/cron_schedule.cpp
  services/workflows/workflow_service.cpp
  services/workflows/run_service.cpp
  services/workflows/cron_trigger.cpp
  services/workflows/workflow_spec.cpp
  services/sessions/session_list_filter.cpp
  services/sessions/session_service.cpp
  # host: plugin loading, the host table, the connection hub, binding, discovery, TLS files, bus
  host/host_table.cpp
  host/plugins/module_catalog.cpp
  host/plugins/plugin_instance.cpp
  host/bus/bus.cpp
  host/bus/plugin_bus.cpp
  host/connections/connection.cpp
  host/connections/connection_hub.cpp
  host/connections/shard_assignment.cpp
  host/netbind/bind_service.cpp
  host/discovery/publisher.cpp
  host/discovery/records.cpp
  host/discovery/ws_services.cpp
  host/discovery/ws_url.cpp
  host/tls/tls_material.cpp
  # cluster: several gateway instances as one, over the bus (presence, routing, fan-out)
  cluster/cluster_wire.cpp
  cluster/presence.cpp
  cluster/cluster_node_router.cpp
  cluster/cluster_fanout.cpp
  cluster/relay_history.cpp
  # protocols: one folder per dialect, the method table they share at the root
  protocols/method_table.cpp
  protocols/session_cookie.cpp
  protocols/web_origin.cpp
  protocols/cookie_auth.cpp
  protocols/bridge/bridge_dialect.cpp
  protocols/bridge/invoke_res_view.cpp
  protocols/bridge/authenticated_nodes.cpp
  protocols/bridge/tick_timer.cpp
  protocols/bridge/voicewake_events.cpp
  protocols/bridge/new_commands.cpp
  protocols/node/execute_result_frame.cpp
  protocols/node/node_host_dialect.cpp
  protocols/client/client_dialect.cpp
  protocols/operator/operator_dialect.cpp
  protocols/operator/request_view.cpp
  protocols/operator/admin_methods.cpp
  protocols/operator/dispatch_methods.cpp
  protocols/operator/node_methods.cpp
  protocols/operator/event_audience.cpp
  protocols/operator/node_events.cpp
  protocols/operator/node_view.cpp
  protocols/operator/log_methods.cpp
  protocols/operator/session_methods.cpp
  protocols/operator/web_methods.cpp
  protocols/rest/rest_dialect.cpp
  protocols/rest/rest_envelope.cpp
  protocols/rest/rest_headers.cpp
  protocols/rest/rest_auth.cpp
  protocols/rest/rest_response.cpp
  protocols/rest/metrics_route.cpp
  protocols/rest/web_session_routes.cpp
  protocols/rest/dispatch_routes.cpp
  protocols/rest/node_host_routes.cpp
  protocols/rest/session_routes.cpp
  protocols/rest/workflow_routes.cpp
  protocols/rest/workflow_run_routes.cpp
  # gateway: the composition root, the only folder that knows every other
  gateway/config_probe.cpp
  gateway/gateway.cpp
  gateway/internal_exposure.cpp
  gateway/http_api.cpp
  gateway/metrics_scrape.cpp
  gateway/instance_id.cpp
  gateway/net_instances.cpp
  gateway/service_hooks.cpp
  gateway/state_dir_lock.cpp
  gateway/web_signin.cpp
)
target_include_directories(vespid_core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/generated)
target_compile_definitions(vespid_core PUBLIC BOOST_DLL_USE_STD_FS BOOST_ASIO_NO_DEPRECATED)
target_link_libraries(vespid_core PUBLIC
  vespid_sdk vespid_paths vespid_json_write vespid_json_scan
  Boost::headers
  Boost::url
  OpenSSL::Crypto
  nlohmann_json::nlohmann_json
  spdlog::spdlog
  Threads::Threads
  ${CMAKE_DL_LIBS})
vespid_warnings(vespid_core)

# sd_notify(3): readiness, status and the watchdog under systemd (Debian: libsystemd-dev). Without
# it the gateway builds and runs the same, it just cannot tell a Type=notify unit it is ready.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(LIBSYSTEMD IMPORTED_TARGET libsystemd)
endif()
if(LIBSYSTEMD_FOUND)
  target_link_libraries(vespid_core PRIVATE PkgConfig::LIBSYSTEMD)
  target_compile_definitions(vespid_core PRIVATE VESPID_HAVE_LIBSYSTEMD)
else()
  message(STATUS "vespid-gateway: libsystemd not found; built without sd_notify (Type=notify "
                 "units will not see it ready)")
endif()
set(VESPID_HAVE_LIBSYSTEMD ${LIBSYSTEMD_FOUND} CACHE INTERNAL "vespid_core speaks sd_notify")
