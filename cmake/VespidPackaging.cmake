# Debian packages with CPack's DEB generator, one per install component:
#
#   vespid-gateway   component gateway: the daemon, its plugins (/usr/lib/vespid/plugins), the
#                    `vespid` CLI, the web client (/usr/share/vespid/web), /etc/vespid/vespid.json
#                    (a conffile), the system unit, the vespid user (postinst), /var/lib/vespid
#   vespid-agent     component agent: the node host and its user unit
#   vespid-worker    component worker: the workflow worker, its unit and /etc/vespid/worker.env
#   vespid-sdk-dev   components sdk and sdk-doc: the plugin headers, the VespidSDK CMake package, the example
#
# From any configured build tree, after building it (CI packages its `ci` tree, so nothing is
# compiled twice):   cpack --config build/ci/CPackConfig.cmake -B build/ci/packages
# scripts/package-check.sh builds, installs, runs, upgrades and purges them. docs/operations.md.
#
# Install rules with absolute destinations (/etc, /lib/systemd) are EXCLUDE_FROM_ALL: packages
# install components one by one and get them, while `cmake --install build --prefix ~/x` never
# writes to the real /etc.

set(_vsp_deb ${PROJECT_SOURCE_DIR}/cmake/deb)

# ---- what goes where, beyond the targets' own install() rules ----
install(FILES ${PROJECT_SOURCE_DIR}/etc/vespid.json DESTINATION /etc/vespid COMPONENT gateway
        EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/etc/systemd/vespid-gateway.service
        DESTINATION /lib/systemd/system COMPONENT gateway EXCLUDE_FROM_ALL)
# An example only: installed into /etc/avahi/services it would announce the gateway on every LAN.
install(FILES ${PROJECT_SOURCE_DIR}/etc/avahi/vespid-gateway.service
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/vespid-gateway/examples/avahi COMPONENT gateway
        EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/vespid-gateway COMPONENT gateway EXCLUDE_FROM_ALL)

install(FILES ${PROJECT_SOURCE_DIR}/etc/systemd/user/vespid-agent.service
        DESTINATION lib/systemd/user COMPONENT agent EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/docs/agent.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/vespid-agent COMPONENT agent EXCLUDE_FROM_ALL)

install(FILES ${PROJECT_SOURCE_DIR}/etc/systemd/vespid-worker.service
        DESTINATION /lib/systemd/system COMPONENT worker EXCLUDE_FROM_ALL)
# It will hold the service token: root only.
install(FILES ${PROJECT_SOURCE_DIR}/etc/vespid/worker.env DESTINATION /etc/vespid
        PERMISSIONS OWNER_READ OWNER_WRITE COMPONENT worker EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/docs/worker.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/vespid-worker COMPONENT worker EXCLUDE_FROM_ALL)

# The example and the guides: a component of their own (sdk-doc), packaged with sdk in one
# vespid-sdk-dev, so that `cmake --install --component sdk` stays headers and CMake files only.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sdk/examples/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/vespid-sdk-dev/examples COMPONENT sdk-doc
        EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/docs/plugin-authoring.md ${PROJECT_SOURCE_DIR}/docs/plugin-abi.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/vespid-sdk-dev COMPONENT sdk-doc EXCLUDE_FROM_ALL)

# ---- the packages ----
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vespid)
set(CPACK_PACKAGE_VENDOR "Vespid")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The ci tree carries line tables (-g1); packages do not need them.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL gateway agent worker sdk sdk-doc)
# One package per group; a component outside any group is a package of its own.
set(CPACK_COMPONENT_SDK_GROUP sdkdev)
set(CPACK_COMPONENT_SDK-DOC_GROUP sdkdev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # <name>_<version>-<release>_<arch>.deb
# The Debian revision; scripts/package-check.sh bumps it (VESPID_DEB_RELEASE) to exercise an
# upgrade. Read when cpack runs, not when CMake configures.
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_SOURCE_DIR}/cmake/VespidCPackOptions.cmake)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "Vespid Gateway developers <maintainers@vespid.invalid>")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends from the ELF files themselves (dpkg-shlibdeps): libssl3, libsqlite3-0, libpq5, ...
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)

set(CPACK_DEBIAN_GATEWAY_PACKAGE_NAME vespid-gateway)
set(CPACK_DEBIAN_GATEWAY_PACKAGE_SECTION net)
# adduser for the postinst; init-system-helpers for deb-systemd-helper/-invoke.
set(CPACK_DEBIAN_GATEWAY_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.52)")
set(CPACK_DEBIAN_GATEWAY_PACKAGE_SUGGESTS "avahi-daemon, sqlite3, vespid-agent, vespid-worker")
set(CPACK_DEBIAN_GATEWAY_PACKAGE_CONTROL_EXTRA
    ${_vsp_deb}/vespid-gateway/conffiles ${_vsp_deb}/vespid-gateway/postinst
    ${_vsp_deb}/vespid-gateway/prerm ${_vsp_deb}/vespid-gateway/postrm)
set(CPACK_DEBIAN_GATEWAY_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_COMPONENT_GATEWAY_DESCRIPTION
    "Vespid Gateway: the gateway daemon for node hosts and control clients
One daemon that node hosts (servers, laptops, phones in node mode) and control
clients (browser, CLI, phone) connect to: pairing, routing, sessions, dispatch
and persistence, with transports, discovery, network binding and storage as
plugins. This package holds the daemon and its plugins, the vespid CLI, the
web control client, the default configuration and a hardened systemd unit.")

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME vespid-agent)
set(CPACK_DEBIAN_AGENT_PACKAGE_SECTION net)
set(CPACK_COMPONENT_AGENT_DESCRIPTION
    "Vespid node host (vespid-agent)
Pairs with a Vespid gateway and runs the work it dispatches (agent runs,
session turns). Ships a systemd user unit: each user pairs and runs their own.")

set(CPACK_DEBIAN_WORKER_PACKAGE_NAME vespid-worker)
set(CPACK_DEBIAN_WORKER_PACKAGE_SECTION net)
set(CPACK_DEBIAN_WORKER_PACKAGE_DEPENDS "init-system-helpers (>= 1.52)")
set(CPACK_DEBIAN_WORKER_PACKAGE_SUGGESTS "vespid-gateway")
set(CPACK_DEBIAN_WORKER_PACKAGE_CONTROL_EXTRA
    ${_vsp_deb}/vespid-worker/conffiles ${_vsp_deb}/vespid-worker/postinst
    ${_vsp_deb}/vespid-worker/prerm ${_vsp_deb}/vespid-worker/postrm)
set(CPACK_DEBIAN_WORKER_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_COMPONENT_WORKER_DESCRIPTION
    "Vespid workflow worker (vespid-worker)
Runs workflow runs through a Vespid gateway's internal routes; several may
run side by side. Ships a systemd unit reading /etc/vespid/worker.env.")

set(CPACK_DEBIAN_SDKDEV_PACKAGE_NAME vespid-sdk-dev)
set(CPACK_DEBIAN_SDKDEV_PACKAGE_SECTION libdevel)
# Headers and CMake files only.
set(CPACK_DEBIAN_SDKDEV_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_SDKDEV_PACKAGE_SUGGESTS "cmake (>= 3.25), vespid-gateway")
set(CPACK_DEBIAN_SDKDEV_DESCRIPTION
    "Vespid Gateway plugin SDK
The stable C ABI headers (C99), the header-only C++ helper, the VespidSDK
CMake package (find_package(VespidSDK); vespid_add_plugin()) and an example
transport plugin.")

include(CPack)
unset(_vsp_deb)
