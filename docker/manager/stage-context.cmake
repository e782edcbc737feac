# Assembles the manager image's build context in OUT: the Dockerfile and a rootfs with the fleet
# binary, every shared library it loads (resolved on this host, symlink chains kept), the dynamic
# loader, Debian's static busybox, and /etc/passwd and group. Run after llmspell-fleet is linked:
#   cmake -DFLEET=... -DSOURCE_DIR=... -DOUT=... [-DSTRIP=strip] -P stage-context.cmake
# (The same steps as docker/kernel/stage-context.cmake, for the other binary.)
cmake_minimum_required(VERSION 3.25)
foreach(var FLEET SOURCE_DIR OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "stage-context.cmake: -D${var}= is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${OUT}")
set(ROOTFS "${OUT}/rootfs")
file(COPY "${SOURCE_DIR}/docker/manager/Dockerfile" DESTINATION "${OUT}")
file(COPY "${SOURCE_DIR}/docker/manager/etc" DESTINATION "${ROOTFS}")
file(COPY "${FLEET}" DESTINATION "${ROOTFS}/usr/local/bin")
if(STRIP)
  # Debug info stays in the build tree; the image gets the stripped binary.
  execute_process(COMMAND "${STRIP}" --strip-unneeded "${ROOTFS}/usr/local/bin/llmspell-fleet" COMMAND_ERROR_IS_FATAL ANY)
endif()
file(COPY /bin/busybox DESTINATION "${ROOTFS}/bin")

file(GET_RUNTIME_DEPENDENCIES
  EXECUTABLES "${FLEET}"
  RESOLVED_DEPENDENCIES_VAR libraries
  UNRESOLVED_DEPENDENCIES_VAR unresolved)
if(unresolved)
  message(FATAL_ERROR "stage-context.cmake: cannot resolve ${unresolved}")
endif()
# The loader the binary names in PT_INTERP is not a dependency as far as the linker is concerned.
list(APPEND libraries /lib64/ld-linux-x86-64.so.2)
foreach(library IN LISTS libraries)
  get_filename_component(dir "${library}" DIRECTORY)
  file(COPY "${library}" DESTINATION "${ROOTFS}${dir}" FOLLOW_SYMLINK_CHAIN)
endforeach()
list(LENGTH libraries count)
message(STATUS "manager image context: ${OUT} (${count} shared libraries)")
