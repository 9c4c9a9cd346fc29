# find_package(DrvSign CONFIG): the CMake module (add_signed_driver_package() and friends).
# In an installed copy, DrvSignTargets.cmake beside this file imports the helper as
# DrvSign::drvsign, and the module runs that one; in a source tree (a clone, add_subdirectory,
# FetchContent) the module builds the helper for the host.
if(NOT TARGET DrvSign::drvsign AND EXISTS "${CMAKE_CURRENT_LIST_DIR}/DrvSignTargets.cmake")
  include("${CMAKE_CURRENT_LIST_DIR}/DrvSignTargets.cmake")
endif()
include("${CMAKE_CURRENT_LIST_DIR}/DrvSign.cmake")
set(DrvSign_FOUND TRUE)
