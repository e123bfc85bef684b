# Installs the SDK as a CMake package, so that out-of-tree plugins build with
#   find_package(VespidSDK 1.0 REQUIRED)
#   vespid_add_plugin(my-plugin SOURCES my_plugin.cpp)
#
#   cmake --install <build> --component sdk --prefix <prefix>
# puts the headers in <prefix>/include/vespid/ and the package in <prefix>/lib/cmake/VespidSDK/.
# The SDK is header-only, so installing this component needs nothing to be built first.
#
# The package version is the plugin ABI version (major.minor), read from abi.h: that header is
# the one source of truth. Compatibility is SameMajorVersion, the ABI's own rule: a plugin built
# against SDK 1.x loads into any gateway speaking ABI 1.y with y >= x.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Read at configure time, so a change of abi.h configures again (a build tree made before a
# minor bump would otherwise install the SDK under the old version).
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${CMAKE_CURRENT_SOURCE_DIR}/include/vespid/abi.h)
file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/include/vespid/abi.h _vsp_abi_defines
     REGEX "^#define VSP_ABI_(MAJOR|MINOR)[ \t]+[0-9]+")
foreach(_vsp_part MAJOR MINOR)
  set(_vsp_abi_${_vsp_part} "")
  foreach(_vsp_line IN LISTS _vsp_abi_defines)
    if(_vsp_line MATCHES "^#define VSP_ABI_${_vsp_part}[ \t]+([0-9]+)")
      set(_vsp_abi_${_vsp_part} ${CMAKE_MATCH_1})
    endif()
  endforeach()
  if(_vsp_abi_${_vsp_part} STREQUAL "")
    message(FATAL_ERROR "sdk/include/vespid/abi.h: could not find '#define VSP_ABI_${_vsp_part} <n>'")
  endif()
endforeach()
set(VESPID_SDK_VERSION "${_vsp_abi_MAJOR}.${_vsp_abi_MINOR}" CACHE INTERNAL
    "Vespid plugin ABI version (from abi.h), the version of the VespidSDK package")

set(VESPID_SDK_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/VespidSDK" CACHE STRING
    "Where the VespidSDK CMake package is installed, relative to the prefix")
mark_as_advanced(VESPID_SDK_INSTALL_CMAKEDIR)

# Installed, the interface target is called Vespid::sdk, just as its in-tree alias.
set_target_properties(vespid_sdk PROPERTIES EXPORT_NAME sdk)

install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/vespid
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT sdk
        FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
install(TARGETS vespid_sdk EXPORT VespidSDKTargets COMPONENT sdk)
install(EXPORT VespidSDKTargets
        NAMESPACE Vespid::
        FILE VespidSDKTargets.cmake
        DESTINATION ${VESPID_SDK_INSTALL_CMAKEDIR}
        COMPONENT sdk)

set(_vsp_pkg_dir ${CMAKE_CURRENT_BINARY_DIR}/VespidSDK)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/VespidSDKConfig.cmake.in
                              ${_vsp_pkg_dir}/VespidSDKConfig.cmake
                              INSTALL_DESTINATION ${VESPID_SDK_INSTALL_CMAKEDIR}
                              NO_SET_AND_CHECK_MACRO NO_CHECK_REQUIRED_COMPONENTS_MACRO)
write_basic_package_version_file(${_vsp_pkg_dir}/VespidSDKConfigVersion.cmake
                                 VERSION ${VESPID_SDK_VERSION}
                                 COMPATIBILITY SameMajorVersion
                                 ARCH_INDEPENDENT)
install(FILES ${_vsp_pkg_dir}/VespidSDKConfig.cmake ${_vsp_pkg_dir}/VespidSDKConfigVersion.cmake
              ${CMAKE_CURRENT_LIST_DIR}/vespid-plugin.map
        DESTINATION ${VESPID_SDK_INSTALL_CMAKEDIR}
        COMPONENT sdk)

unset(_vsp_abi_defines)
unset(_vsp_pkg_dir)
