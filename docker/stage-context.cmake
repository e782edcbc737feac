# Assembles an image's build context in OUT (the kernel's, the manager's): docker/IMAGE's Dockerfile,
# and a rootfs with BINARY in /usr/local/bin, every shared library it loads (resolved on this host,
# symlink chains kept), the dynamic loader, Debian's static busybox, docker/IMAGE/etc (passwd,
# group), and DEFAULT_CONFIG as /etc/llmspell/config.toml when given. Run after BINARY is linked:
#   cmake -DBINARY=... -DIMAGE=kernel|manager -DSOURCE_DIR=... -DOUT=... [-DSTRIP=strip]
#         [-DDEFAULT_CONFIG=configs/default.toml] -P docker/stage-context.cmake
cmake_minimum_required(VERSION 3.25)
foreach(var BINARY IMAGE SOURCE_DIR OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "stage-context.cmake: -D${var}= is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${OUT}")
set(ROOTFS "${OUT}/rootfs")
file(COPY "${SOURCE_DIR}/docker/${IMAGE}/Dockerfile" DESTINATION "${OUT}")
file(COPY "${SOURCE_DIR}/docker/${IMAGE}/etc" DESTINATION "${ROOTFS}")
if(DEFAULT_CONFIG)
  file(MAKE_DIRECTORY "${ROOTFS}/etc/llmspell")
  file(COPY_FILE "${DEFAULT_CONFIG}" "${ROOTFS}/etc/llmspell/config.toml")
endif()
file(COPY "${BINARY}" DESTINATION "${ROOTFS}/usr/local/bin")
get_filename_component(name "${BINARY}" NAME)
if(STRIP)
  # Debug info stays in the build tree; the image gets the stripped binary.
  execute_process(COMMAND "${STRIP}" --strip-unneeded "${ROOTFS}/usr/local/bin/${name}" COMMAND_ERROR_IS_FATAL ANY)
endif()
file(COPY /bin/busybox DESTINATION "${ROOTFS}/bin")

file(GET_RUNTIME_DEPENDENCIES
  EXECUTABLES "${BINARY}"
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
message(STATUS "${IMAGE} image context: ${OUT} (${count} shared libraries)")
