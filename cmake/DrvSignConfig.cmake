# find_package(DrvSign CONFIG): the CMake module (add_signed_driver_package() and friends).
# The drvsign helper it drives is found by the module itself (see DrvSign.cmake).
include("${CMAKE_CURRENT_LIST_DIR}/DrvSign.cmake")
set(DrvSign_FOUND TRUE)
