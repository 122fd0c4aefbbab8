# The version and git revision that every result file records in /meta.
find_package(Git QUIET)
set(SEGSIM_GIT_REVISION "unknown")
if(GIT_FOUND AND EXISTS "${CMAKE_SOURCE_DIR}/.git")
  execute_process(COMMAND ${GIT_EXECUTABLE} describe --always --dirty --abbrev=12
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    OUTPUT_VARIABLE SEGSIM_GIT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT SEGSIM_GIT_REVISION)
    set(SEGSIM_GIT_REVISION "unknown")
  endif()
endif()
configure_file(${CMAKE_SOURCE_DIR}/cmake/version.h.in ${CMAKE_BINARY_DIR}/generated/segsim/version.h @ONLY)
add_library(segsim_version INTERFACE)
target_include_directories(segsim_version INTERFACE ${CMAKE_BINARY_DIR}/generated)
