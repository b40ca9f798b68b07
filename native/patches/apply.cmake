# Applies one of our patches to a vendored source tree, once: cmake -DSRC=<dir> -DPATCH=<file> -P apply.cmake
# (ExternalProject's PATCH_COMMAND; a tree that already has the patch is left alone).
execute_process(COMMAND patch -p1 -R --dry-run -s -f -i ${PATCH} WORKING_DIRECTORY ${SRC}
  RESULT_VARIABLE applied OUTPUT_QUIET ERROR_QUIET)
if(applied EQUAL 0)
  return()
endif()
execute_process(COMMAND patch -p1 -N -s -i ${PATCH} WORKING_DIRECTORY ${SRC} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "could not apply ${PATCH} in ${SRC}")
endif()
