# Assembles the kernel image's build context in OUT: the Dockerfile and a rootfs with the kernel
# binary, every shared library it loads (resolved on this host, symlink chains kept), the dynamic
# loader, Debian's static busybox, /etc/passwd and group, and configs/default.toml as the default
# config. Run after llmspell-kernel is linked:
#   cmake -DKERNEL=... -DSOURCE_DIR=... -DOUT=... [-DSTRIP=strip] -P stage-context.cmake
cmake_minimum_required(VERSION 3.25)
foreach(var KERNEL SOURCE_DIR OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "stage-context.cmake: -D${var}= is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${OUT}")
set(ROOTFS "${OUT}/rootfs")
file(COPY "${SOURCE_DIR}/docker/kernel/Dockerfile" DESTINATION "${OUT}")
file(COPY "${SOURCE_DIR}/docker/kernel/etc" DESTINATION "${ROOTFS}")
file(MAKE_DIRECTORY "${ROOTFS}/etc/llmspell")
file(COPY_FILE "${SOURCE_DIR}/configs/default.toml" "${ROOTFS}/etc/llmspell/config.toml")
file(COPY "${KERNEL}" DESTINATION "${ROOTFS}/usr/local/bin")
if(STRIP)
  # Debug info stays in the build tree; the image gets the stripped binary.
  execute_process(COMMAND "${STRIP}" --strip-unneeded "${ROOTFS}/usr/local/bin/llmspell-kernel" COMMAND_ERROR_IS_FATAL ANY)
endif()
file(COPY /bin/busybox DESTINATION "${ROOTFS}/bin")

file(GET_RUNTIME_DEPENDENCIES
  EXECUTABLES "${KERNEL}"
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
message(STATUS "kernel image context: ${OUT} (${count} shared libraries)")
