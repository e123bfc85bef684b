# VESPID_FUZZ=ON (the `fuzz` configure preset): the libFuzzer harnesses of fuzz/ and an
# AddressSanitizer + UndefinedBehaviorSanitizer build of everything they and the unit tests link.
# clang only (libFuzzer ships with clang: Debian's clang-15 package). See docs/fuzzing.md.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "VESPID_FUZZ needs clang (libFuzzer); configure with the `fuzz` preset, "
                      "which uses clang-15 / clang++-15")
endif()

# Every object is instrumented for coverage (fuzzer-no-link) and checked by both sanitizers;
# only the harness executables link libFuzzer itself (vespid_fuzzer below). A UBSan finding
# aborts like an ASan one, so a fuzzer or a unit test cannot step over it.
add_compile_options(-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all
                    -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)
# The project's warning set is GCC's; clang does not know -Wshadow=local.
add_compile_options(-Wno-unknown-warning-option)

# Plugin modules link with -Wl,--no-undefined (cmake/VespidWarnings.cmake), but clang's
# sanitizer runtime lives in the executable that loads them, so an instrumented module has
# undefined __asan_* / __ubsan_* references by design. `-z undefs` after --no-undefined lifts
# that for the modules this build needs (the storage tests load the SQLite plugin).
function(vespid_fuzz_module target)
  target_link_options(${target} PRIVATE -Wl,-z,undefs)
endfunction()
