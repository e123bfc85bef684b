# vespid_warnings(<target>): the project's warning set, zero warnings expected.
function(vespid_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local
                                           -Wno-missing-field-initializers)
  if(VESPID_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# vespid_plugin(<name> SOURCES ...): an in-tree plugin module. Built exactly as an out-of-tree
# plugin is (see sdk/cmake/VespidSDKConfig.cmake.in): hidden visibility, no undefined symbols,
# the SDK headers only.
function(vespid_plugin name)
  cmake_parse_arguments(P "" "" "SOURCES" ${ARGN})
  add_library(${name} MODULE ${P_SOURCES})
  target_link_libraries(${name} PRIVATE vespid_sdk)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "vespid-${name}"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${VESPID_PLUGIN_OUTPUT_DIR})
  # Only vsp_module_query is exported; hidden visibility alone leaves the C++ standard
  # library's template instantiations visible.
  target_link_options(${name} PRIVATE -Wl,--no-undefined
                      "-Wl,--version-script=${PROJECT_SOURCE_DIR}/sdk/cmake/vespid-plugin.map")
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS ${PROJECT_SOURCE_DIR}/sdk/cmake/vespid-plugin.map)
  vespid_warnings(${name})
  install(TARGETS ${name} LIBRARY DESTINATION ${VESPID_PLUGIN_INSTALL_DIR} COMPONENT gateway)
endfunction()
