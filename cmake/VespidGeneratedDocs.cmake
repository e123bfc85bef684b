# Man pages and bash completions of the programs, generated from their own --help at build
# time so neither can drift from what the program accepts (and neither is kept in git):
#   build/<preset>/share/man/man1/<program>.1                 help2man, plus docs/man/<program>.h2m
#                                                             (NAME, ENVIRONMENT, FILES, SEE ALSO)
#   build/<preset>/share/bash-completion/completions/<program> scripts/gen-completion.py
# gen-completion.py walks every subcommand's --help; it also writes the man page's COMMANDS
# and EXAMPLES sections, which help2man takes as a second include.
#
# Part of `all`: the four programs' pages and completions take under 2 s together, one job at a
# time on a loaded 2-core machine (measured), and are redone only for a program that was
# relinked. The target `docs-generated` builds them alone.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
find_program(HELP2MAN_PROGRAM help2man)
if(NOT HELP2MAN_PROGRAM)
  message(WARNING "help2man not found: no man pages (scripts/install-deps.sh installs it); "
                  "bash completions are still generated")
endif()

set(VESPID_MAN_DIR ${CMAKE_BINARY_DIR}/share/man/man1)
set(VESPID_COMPLETION_DIR ${CMAKE_BINARY_DIR}/share/bash-completion/completions)
set(_vsp_gen_completion ${CMAKE_SOURCE_DIR}/scripts/gen-completion.py)
set(_vsp_generated_docs)

# vespid_generated_docs(<program target> <install component>)
function(vespid_generated_docs program component)
  set(completion ${VESPID_COMPLETION_DIR}/${program})
  set(commands_h2m ${CMAKE_BINARY_DIR}/generated-docs/${program}.commands.h2m)
  add_custom_command(
    OUTPUT ${completion} ${commands_h2m}
    COMMAND ${Python3_EXECUTABLE} ${_vsp_gen_completion} $<TARGET_FILE:${program}>
            --name ${program} --bash ${completion} --h2m ${commands_h2m}
    DEPENDS ${program} ${_vsp_gen_completion}
    COMMENT "Generating the bash completion of ${program} from its --help"
    VERBATIM)
  list(APPEND _vsp_generated_docs ${completion})
  install(FILES ${completion} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          COMPONENT ${component})

  if(HELP2MAN_PROGRAM)
    set(man ${VESPID_MAN_DIR}/${program}.1)
    set(static_h2m ${CMAKE_SOURCE_DIR}/docs/man/${program}.h2m)
    add_custom_command(
      OUTPUT ${man}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${VESPID_MAN_DIR}
      # --no-info: there is no Texinfo manual to point at; the docs are named in SEE ALSO.
      COMMAND ${HELP2MAN_PROGRAM} --no-info --section 1 --include ${static_h2m}
              --include ${commands_h2m} --output ${man} $<TARGET_FILE:${program}>
      DEPENDS ${program} ${static_h2m} ${commands_h2m}
      COMMENT "Generating the man page of ${program} with help2man"
      VERBATIM)
    list(APPEND _vsp_generated_docs ${man})
    install(FILES ${man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT ${component})
  endif()
  set(_vsp_generated_docs ${_vsp_generated_docs} PARENT_SCOPE)
endfunction()

# The component names are the packages' (CPack): the CLI ships with the gateway.
vespid_generated_docs(vespid-gateway gateway)
vespid_generated_docs(vespid gateway)
vespid_generated_docs(vespid-agent agent)
vespid_generated_docs(vespid-worker worker)
add_custom_target(docs-generated ALL DEPENDS ${_vsp_generated_docs})
