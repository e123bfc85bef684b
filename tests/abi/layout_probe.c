/*
 * Records the binary layout one set of SDK headers defines: the offset and size of every member
 * of every struct and table that crosses the boundary, the size of structs passed in arrays
 * (they have no struct_size, so they can never grow), and the value of every constant. Compiled
 * once per header set (frozen 1.0 to 1.6, current) with LAYOUT_NAME naming the table;
 * layout_test.cpp then requires every entry of an older set to be unchanged in every newer one.
 *
 * Members are listed by the minor that introduced them, so a set only names what it has.
 */
#include "layout_probe.h"

#include <stddef.h>

#include "vespid/vespid.h"

#ifndef LAYOUT_NAME
#error "build with -DLAYOUT_NAME=<table name> (see tests/abi/CMakeLists.txt)"
#endif

#define MEMBER(type, member) \
  { #type "." #member, offsetof(type, member), sizeof(((type*)0)->member), LAYOUT_MEMBER }
#define ARRAY_ELEMENT(type) \
  { "sizeof " #type, 0, sizeof(type), LAYOUT_SIZE }
#define CONSTANT(name) \
  { #name, (size_t)(long long)(name), 0, LAYOUT_CONSTANT }
#define TEXT(name) \
  { #name "=" name, 0, 0, LAYOUT_CONSTANT }

const layout_entry LAYOUT_NAME[] = {
    /* ---- 1.0 ---- */
    CONSTANT(VSP_ABI_MAJOR),
    /* abi.h */
    CONSTANT(VSP_OK),
    CONSTANT(VSP_E_INVALID),
    CONSTANT(VSP_E_NOMEM),
    CONSTANT(VSP_E_IO),
    CONSTANT(VSP_E_NOT_FOUND),
    CONSTANT(VSP_E_CONFLICT),
    CONSTANT(VSP_E_BUSY),
    CONSTANT(VSP_E_OVERFLOW),
    CONSTANT(VSP_E_CLOSED),
    CONSTANT(VSP_E_UNSUPPORTED),
    CONSTANT(VSP_E_FULL),
    CONSTANT(VSP_E_INTERNAL),
    CONSTANT(VSP_E_ABI),
    CONSTANT(VSP_E_ADDR_IN_USE),
    CONSTANT(VSP_E_PERMISSION),
    CONSTANT(VSP_ERROR_MESSAGE_MAX),
    CONSTANT(VSP_LOG_TRACE),
    CONSTANT(VSP_LOG_DEBUG),
    CONSTANT(VSP_LOG_INFO),
    CONSTANT(VSP_LOG_WARN),
    CONSTANT(VSP_LOG_ERROR),
    CONSTANT(VSP_KIND_TRANSPORT),
    CONSTANT(VSP_KIND_NETBIND),
    CONSTANT(VSP_KIND_DISCOVERY),
    CONSTANT(VSP_KIND_STORAGE),
    TEXT(VSP_MODULE_QUERY_SYMBOL),
    MEMBER(vsp_error, struct_size),
    MEMBER(vsp_error, status),
    MEMBER(vsp_error, message),
    MEMBER(vsp_lifecycle, create),
    MEMBER(vsp_lifecycle, start),
    MEMBER(vsp_lifecycle, stop),
    MEMBER(vsp_lifecycle, destroy),
    MEMBER(vsp_plugin_desc, struct_size),
    MEMBER(vsp_plugin_desc, kind),
    MEMBER(vsp_plugin_desc, id),
    MEMBER(vsp_plugin_desc, description),
    MEMBER(vsp_plugin_desc, vtbl),
    MEMBER(vsp_plugin_desc, vtbl_size),
    MEMBER(vsp_module_info, struct_size),
    MEMBER(vsp_module_info, abi_major),
    MEMBER(vsp_module_info, abi_minor),
    MEMBER(vsp_module_info, name),
    MEMBER(vsp_module_info, version),
    MEMBER(vsp_module_info, plugin_count),
    MEMBER(vsp_module_info, plugins),
    /* host.h */
    CONSTANT(VSP_CONN_TLS),
    CONSTANT(VSP_CONN_LOCAL_ADMIN),
    CONSTANT(VSP_CONN_ADMISSION),
    CONSTANT(VSP_WATCH_READ),
    CONSTANT(VSP_WATCH_WRITE),
    CONSTANT(VSP_WATCH_ERROR),
    CONSTANT(VSP_WATCH_HUP),
    MEMBER(vsp_conn_info, struct_size),
    MEMBER(vsp_conn_info, dialect),
    MEMBER(vsp_conn_info, peer_address),
    MEMBER(vsp_conn_info, local_address),
    MEMBER(vsp_conn_info, flags),
    MEMBER(vsp_conn_info, bearer_token),
    MEMBER(vsp_conn_info, org_hint),
    MEMBER(vsp_conn_info, path),
    MEMBER(vsp_conn_info, query),
    MEMBER(vsp_conn_info, headers_json),
    MEMBER(vsp_host_api, struct_size),
    MEMBER(vsp_host_api, abi_major),
    MEMBER(vsp_host_api, abi_minor),
    MEMBER(vsp_host_api, log),
    MEMBER(vsp_host_api, report_failure),
    MEMBER(vsp_host_api, instance_name),
    MEMBER(vsp_host_api, state_dir),
    MEMBER(vsp_host_api, config_get),
    MEMBER(vsp_host_api, post),
    MEMBER(vsp_host_api, timer_new),
    MEMBER(vsp_host_api, timer_arm),
    MEMBER(vsp_host_api, timer_disarm),
    MEMBER(vsp_host_api, timer_free),
    MEMBER(vsp_host_api, watch_new),
    MEMBER(vsp_host_api, watch_update),
    MEMBER(vsp_host_api, watch_free),
    MEMBER(vsp_host_api, conn_open),
    MEMBER(vsp_host_api, conn_recv),
    MEMBER(vsp_host_api, conn_closed),
    MEMBER(vsp_host_api, conn_writable),
    MEMBER(vsp_host_api, conn_protocol_error),
    /* transport.h */
    MEMBER(vsp_transport_vtbl, struct_size),
    MEMBER(vsp_transport_vtbl, life),
    MEMBER(vsp_transport_vtbl, send),
    MEMBER(vsp_transport_vtbl, close),
    MEMBER(vsp_transport_vtbl, admit),
    /* storage.h */
    CONSTANT(VSP_CMP_ABSENT),
    CONSTANT(VSP_CMP_PRESENT),
    CONSTANT(VSP_CMP_VERSION),
    CONSTANT(VSP_WRITE_PUT),
    CONSTANT(VSP_WRITE_DELETE),
    CONSTANT(VSP_SCAN_REVERSE),
    ARRAY_ELEMENT(vsp_kv),
    MEMBER(vsp_kv, key),
    MEMBER(vsp_kv, key_len),
    MEMBER(vsp_kv, value),
    MEMBER(vsp_kv, value_len),
    MEMBER(vsp_kv, version),
    ARRAY_ELEMENT(vsp_compare),
    MEMBER(vsp_compare, op),
    MEMBER(vsp_compare, key),
    MEMBER(vsp_compare, key_len),
    MEMBER(vsp_compare, version),
    ARRAY_ELEMENT(vsp_write),
    MEMBER(vsp_write, op),
    MEMBER(vsp_write, key),
    MEMBER(vsp_write, key_len),
    MEMBER(vsp_write, value),
    MEMBER(vsp_write, value_len),
    ARRAY_ELEMENT(vsp_txn),
    MEMBER(vsp_txn, compares),
    MEMBER(vsp_txn, compare_count),
    MEMBER(vsp_txn, writes),
    MEMBER(vsp_txn, write_count),
    ARRAY_ELEMENT(vsp_txn_result),
    MEMBER(vsp_txn_result, status),
    MEMBER(vsp_txn_result, failed_compare),
    MEMBER(vsp_txn_result, revision),
    MEMBER(vsp_storage_vtbl, struct_size),
    MEMBER(vsp_storage_vtbl, life),
    MEMBER(vsp_storage_vtbl, get),
    MEMBER(vsp_storage_vtbl, scan),
    MEMBER(vsp_storage_vtbl, commit),
    /* netbind.h */
    MEMBER(vsp_netbind_vtbl, struct_size),
    MEMBER(vsp_netbind_vtbl, life),
    MEMBER(vsp_netbind_vtbl, resolve),
    MEMBER(vsp_netbind_vtbl, set_change_callback),
    /* discovery.h */
    MEMBER(vsp_service_record, struct_size),
    MEMBER(vsp_service_record, instance_name),
    MEMBER(vsp_service_record, service_type),
    MEMBER(vsp_service_record, domain),
    MEMBER(vsp_service_record, host),
    MEMBER(vsp_service_record, port),
    MEMBER(vsp_service_record, txt),
    MEMBER(vsp_service_record, txt_count),
    MEMBER(vsp_discovery_vtbl, struct_size),
    MEMBER(vsp_discovery_vtbl, life),
    MEMBER(vsp_discovery_vtbl, publish),
    MEMBER(vsp_discovery_vtbl, withdraw),
    MEMBER(vsp_discovery_vtbl, browse),
    MEMBER(vsp_discovery_vtbl, browse_stop),
#if VSP_ABI_MINOR >= 1
    /* ---- 1.1 ---- */
    TEXT(VSP_SERVICE_BRIDGE),
    TEXT(VSP_SERVICE_GATEWAY),
    TEXT(VSP_SERVICE_API),
    CONSTANT(VSP_LISTENER_API),
    MEMBER(vsp_listener_info, struct_size),
    MEMBER(vsp_listener_info, service),
    MEMBER(vsp_listener_info, port),
    MEMBER(vsp_listener_info, flags),
    MEMBER(vsp_listener_info, addresses),
    MEMBER(vsp_listener_info, address_count),
    MEMBER(vsp_host_api, bind_watch),
    MEMBER(vsp_host_api, bind_unwatch),
    MEMBER(vsp_host_api, listener_update),
#endif
#if VSP_ABI_MINOR >= 2
    /* ---- 1.2 ---- */
    ARRAY_ELEMENT(vsp_msg),
    MEMBER(vsp_msg, data),
    MEMBER(vsp_msg, len),
    MEMBER(vsp_host_api, batch_begin),
    MEMBER(vsp_host_api, batch_end),
    MEMBER(vsp_transport_vtbl, send_batch),
#endif
#if VSP_ABI_MINOR >= 3
    /* ---- 1.3 ---- */
    CONSTANT(VSP_E_TIMEOUT),
    CONSTANT(VSP_KIND_BUS),
    MEMBER(vsp_bus_msg, struct_size),
    MEMBER(vsp_bus_msg, subject),
    MEMBER(vsp_bus_msg, subject_len),
    MEMBER(vsp_bus_msg, reply_to),
    MEMBER(vsp_bus_msg, reply_len),
    MEMBER(vsp_bus_msg, data),
    MEMBER(vsp_bus_msg, len),
    MEMBER(vsp_bus_vtbl, struct_size),
    MEMBER(vsp_bus_vtbl, life),
    MEMBER(vsp_bus_vtbl, publish),
    MEMBER(vsp_bus_vtbl, subscribe),
    MEMBER(vsp_bus_vtbl, unsubscribe),
    MEMBER(vsp_bus_vtbl, request),
    MEMBER(vsp_bus_vtbl, set_state_callback),
    MEMBER(vsp_bus_vtbl, is_up),
#endif
#if VSP_ABI_MINOR >= 4
    /* ---- 1.4 ---- */
    MEMBER(vsp_storage_vtbl, commit_unsynced),
    MEMBER(vsp_storage_vtbl, sync),
    CONSTANT(VSP_CONN_REST_JSON_BODY),
#endif
#if VSP_ABI_MINOR >= 5
    /* ---- 1.5 ---- */
    CONSTANT(VSP_CONN_REST_RAW_BODY),
#endif
#if VSP_ABI_MINOR >= 6
    /* ---- 1.6 ---- */
    MEMBER(vsp_host_api, io_thread_begin),
    MEMBER(vsp_host_api, io_thread_run),
    MEMBER(vsp_host_api, io_thread_end),
#endif
    {NULL, 0, 0, LAYOUT_END},
};
