# Read by cpack (CPACK_PROJECT_CONFIG_FILE) when it runs, after CPackConfig.cmake: settings that
# belong to one packaging run rather than to the configured tree.

# The Debian revision, e.g. VESPID_DEB_RELEASE=2 for a rebuild of the same upstream version.
if(DEFINED ENV{VESPID_DEB_RELEASE} AND NOT "$ENV{VESPID_DEB_RELEASE}" STREQUAL "")
  set(CPACK_DEBIAN_PACKAGE_RELEASE "$ENV{VESPID_DEB_RELEASE}")
endif()
