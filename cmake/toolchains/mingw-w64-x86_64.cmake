# Cross-compiling drvsign (or its dependencies) for 64-bit Windows with mingw-w64 on Linux.
#
#   cmake -S . -B build-win -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mingw-w64-x86_64.cmake \
#         -DOPENSSL_ROOT_DIR=/path/to/mingw/openssl -DCMAKE_PREFIX_PATH=/path/to/mingw/prefix \
#         -DDRVSIGN_BUILD_TESTS=OFF
#
# Debian: apt-get install gcc-mingw-w64-x86-64 (its x86_64-w64-mingw32-gcc uses Win32 threads,
# which drvsign's port layer uses directly). OpenSSL and libdeflate must be built for mingw-w64
# too (Debian packages neither); scripts/windows-cross.sh builds them as static libraries and
# runs the result under wine. Set MINGW_PREFIX to use another triplet (i686-w64-mingw32).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

if(NOT DEFINED MINGW_PREFIX)
  set(MINGW_PREFIX x86_64-w64-mingw32)
endif()
set(CMAKE_C_COMPILER ${MINGW_PREFIX}-gcc)
set(CMAKE_CXX_COMPILER ${MINGW_PREFIX}-g++)
set(CMAKE_RC_COMPILER ${MINGW_PREFIX}-windres)
set(CMAKE_AR ${MINGW_PREFIX}-ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${MINGW_PREFIX}-ranlib CACHE FILEPATH "")

# Headers and libraries come from the mingw sysroot and the prefixes the caller names
# (CMAKE_PREFIX_PATH, OPENSSL_ROOT_DIR), never from the Linux host; programs from the host.
# The caller's prefixes are roots too, or CMake would look for them under the sysroot.
set(CMAKE_FIND_ROOT_PATH /usr/${MINGW_PREFIX} ${OPENSSL_ROOT_DIR} ${CMAKE_PREFIX_PATH})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# A program that runs on this machine (try_run, tests): wine when it is installed.
find_program(DRVSIGN_WINE NAMES wine64 wine)
if(DRVSIGN_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${DRVSIGN_WINE})
endif()
