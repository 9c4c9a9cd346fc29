#[=======================================================================[.rst:
DrvSign
-------

Build signed Windows driver packages with CMake, on any host: stamp the INF, stage the
package the way its SourceDisksNames/SourceDisksFiles say, embed-sign boot-start binaries,
make and sign the catalog (Inf2Cat + SignTool), and pack the Partner Center submission
cabinet. Every step is a real build rule with real outputs, so builds are incremental.

.. code-block:: cmake

  find_package(DrvSign CONFIG REQUIRED)

The module needs CMake 3.21 or later and sets its own policies (``cmake_policy(VERSION
3.21...3.28)`` inside a ``cmake_policy(PUSH)``/``POP`` block), whatever the including
project's ``cmake_minimum_required`` says. Including it defines functions and nothing else:
no cache variables, no targets.

Commands
^^^^^^^^

.. command:: drvsign_add_package

  Stage, stamp, catalogue and sign a driver package::

    drvsign_add_package(<name>
        INF <file.inf|file.inx>
        [TARGETS <target>...]            # built binaries, placed where the INF says
        [FILES <file|genex>...]          # other package files
        [BOOT_START <target|file>...]    # binaries that also get an embedded signature
        [OS <id>...]                     # Inf2Cat /os ids; default 10_X64, 10_X86 or Server10_ARM64
        [ARCH amd64|x86|arm64]           # default from CMAKE_SYSTEM_PROCESSOR
        [DRIVER_VERSION <w.x.y.z>] [DRIVER_DATE <mm/dd/yyyy>]
        [KMDF_VERSION <x.y>] [UMDF_VERSION <x.y.z>]
        [CATALOG_VERSION 1|2] [PAGE_HASHES]
        [SIGN_MODE off|test|production]  # default test
        [TIMESTAMP_URL <url>...]
        [SIGNATURES <dir>]               # stored signatures: reproducible signed rebuilds
        [SUBMISSION_CAB [<file.cab>]]
        [ARCHIVE zip|tar.gz|tar.xz|7z]
        [OUTPUT_DIRECTORY <dir>])

  The package lands in ``<OUTPUT_DIRECTORY>/<name>/`` (default
  ``${CMAKE_CURRENT_BINARY_DIR}/<name>-package``, with a ``$<CONFIG>`` level under
  multi-config generators). The cabinet and archive go beside that folder. ``INF`` may be an
  ``.inx`` template: like StampInf, the build replaces ``$ARCH$``, ``$KMDFVERSION$`` and
  ``$UMDFVERSION$`` and sets ``DriverVer`` from ``DRIVER_DATE`` (default: SOURCE_DATE_EPOCH's
  date, else today) and ``DRIVER_VERSION`` (default: ``PROJECT_VERSION``, if the project has
  one). With neither, an INF's own dated ``DriverVer`` stays as written, and one left empty for
  StampInf (as Visual Studio's templates do) gets the date. The INF keeps its encoding
  (UTF-16LE, UTF-8 or ANSI) and every character. ``<name>`` becomes a target and the package
  folder: it must not be a target already (name a package ``<driver>_package``, not after its
  driver). Every argument is checked at configure time, each misuse one error naming it.

  Sign modes, as in the WDK's driver signing properties:

  ``test`` (default)
    One test identity per build tree (``drvsign testcert``, the target
    ``drvsign_test_identity``) signs everything, and ``root.cer`` is put next to the package
    for test machines.
  ``production``
    Credentials come from the environment at build time, or from these variables (set them
    in the cache, ``-DDRVSIGN_PFX=...``, or as normal variables before the call):
    ``DRVSIGN_PFX`` with ``DRVSIGN_PASSWORD_FILE``, or ``DRVSIGN_CERT`` with ``DRVSIGN_KEY``
    (a file or a ``pkcs11:`` URI, with ``DRVSIGN_PKCS11_MODULE`` and the PIN in
    ``DRVSIGN_PASSWORD_FILE``), or ``DRVSIGN_CERT`` (the chain) with ``DRVSIGN_SIGNER_COMMAND``
    (an external signer: a CMake list of the program and its arguments as a variable, one
    command string, split as a shell would, in the environment), plus ``DRVSIGN_ADD_CERTS``
    and ``DRVSIGN_TIMESTAMP_URLS``. The build verifies the result against ``DRVSIGN_CA``
    (default: the system store). Passwords come only from ``DRVSIGN_PASSWORD_FILE`` (a file)
    or the ``DRVSIGN_PASSWORD`` environment variable; they never reach the cache or the build
    logs.
  ``off``
    Stage and catalog, without signing.

  ``SIGNATURES <dir>`` (production mode; relative to the source directory) keeps every
  signature the build makes as ``<dir>/<path in the package>.p7`` (and ``<dir>/<cabinet>.p7``).
  A build attaches a stored signature when it signs the file exactly as built now, and signs
  (then stores the signature) when there is none or it no longer matches. Commit the
  directory, and a rebuild from source with the same ``SOURCE_DATE_EPOCH`` gives
  byte-identical signed files with no key present.

  The target ``<name>`` gets these properties, for other code to read: ``DRVSIGN_PACKAGE_DIR``,
  ``DRVSIGN_MANIFEST`` (the build-time manifest, README "The package manifest"),
  ``DRVSIGN_HELPER``, ``DRVSIGN_SIGN_MODE``, ``DRVSIGN_IDENTITY``, ``DRVSIGN_CAB``,
  ``DRVSIGN_SIGNATURES`` and ``DRVSIGN_OS``.

.. command:: drvsign_install_package

  Install a package made by :command:`drvsign_add_package`::

    drvsign_install_package(<name> DESTINATION <dir> [COMPONENT <c>])

  Installs the package folder into ``<dir>``. If production credentials (the variables
  above) are in the environment at ``cmake --install`` time, the installed copy is
  release-signed there: boot-start binaries, catalogs and the cabinet. So CI can build
  test-signed and release-sign at install.

.. command:: drvsign_add_package_test

  Register a CTest test that verifies a package::

    drvsign_add_package_test(<name> [NAME <test>] [CA <file>])

  The test (default name ``<name>.verify``) runs ``drvsign verify --package`` on the staged
  package, against the test root (test mode), ``CA``, ``DRVSIGN_CA``, or the system store.

Earlier names
^^^^^^^^^^^^^

``add_signed_driver_package()``, ``drvsign_install_driver_package()`` and
``add_driver_package_test()`` are aliases of :command:`drvsign_add_package`,
:command:`drvsign_install_package` and :command:`drvsign_add_package_test`: the same
arguments, the same behaviour, and messages that name the function as it was called. They
stay.

Variables
^^^^^^^^^

``DRVSIGN_EXECUTABLE``
  The ``drvsign`` helper to run. The helper always runs on the build host, also when the
  drivers are cross-compiled with a mingw-w64 or MSVC toolchain. Without it, an installed
  copy's helper is used (the imported target ``DrvSign::drvsign``, which the installed
  ``DrvSignConfig.cmake`` defines), or, from a source tree (a clone, ``add_subdirectory()``,
  ``FetchContent``), one is built for the host at configure time.
``DRVSIGN_HELPER_CACHE``
  (variable or environment) Where host helpers built from a source tree are kept for every
  project on the machine: a directory, or ``OFF``. Default
  ``${XDG_CACHE_HOME:-~/.cache}/drvsign`` (``%LOCALAPPDATA%\drvsign`` on Windows).
``DRVSIGN_PFX``, ``DRVSIGN_PASSWORD_FILE``, ``DRVSIGN_CERT``, ``DRVSIGN_KEY``, ``DRVSIGN_PKCS11_MODULE``, ``DRVSIGN_SIGNER_COMMAND``, ``DRVSIGN_ADD_CERTS``, ``DRVSIGN_TIMESTAMP_URLS``, ``DRVSIGN_CA``
  Production signing, above. Read when :command:`drvsign_add_package` is called.

The package's location is printed at the end of every build, also when nothing had to be
redone.
#]=======================================================================]

include_guard(GLOBAL)
if(CMAKE_VERSION VERSION_LESS 3.21)
  message(FATAL_ERROR "DrvSign needs CMake 3.21 or later (this is ${CMAKE_VERSION})")
endif()
# the module's own policies, whatever the including project's: functions keep the policies in
# effect where they are defined
cmake_policy(PUSH)
cmake_policy(VERSION 3.21...3.28)

# global, not a variable: functions are global, but variables set here stay in the directory
# that included us (add_subdirectory, FetchContent)
set_property(GLOBAL PROPERTY DRVSIGN_MODULE_DIR "${CMAKE_CURRENT_LIST_DIR}")

# An installed copy: DrvSignConfig.cmake has imported the helper as DrvSign::drvsign. Imported
# targets are seen only below the directory that called find_package(), so its path goes into a
# global property, for drvsign_add_package() called anywhere.
if(TARGET DrvSign::drvsign)
  get_target_property(_drvsign_imported DrvSign::drvsign IMPORTED)
  if(_drvsign_imported)
    get_target_property(_drvsign_configs DrvSign::drvsign IMPORTED_CONFIGURATIONS)
    foreach(_drvsign_config IN LISTS _drvsign_configs ITEMS NOCONFIG)
      get_target_property(_drvsign_location DrvSign::drvsign IMPORTED_LOCATION_${_drvsign_config})
      if(_drvsign_location)
        set_property(GLOBAL PROPERTY DRVSIGN_INSTALLED_HELPER "${_drvsign_location}")
        break()
      endif()
    endforeach()
  endif()
  unset(_drvsign_imported)
  unset(_drvsign_configs)
  unset(_drvsign_config)
  unset(_drvsign_location)
endif()

# The host drvsign: DRVSIGN_EXECUTABLE, else the installed one (DrvSign::drvsign), else one built
# from this source tree for the host.
function(_drvsign_helper out_var)
  get_property(_DRVSIGN_MODULE_DIR GLOBAL PROPERTY DRVSIGN_MODULE_DIR)
  get_property(installed GLOBAL PROPERTY DRVSIGN_INSTALLED_HELPER)
  if(DRVSIGN_EXECUTABLE)
    set(${out_var} "${DRVSIGN_EXECUTABLE}" PARENT_SCOPE)
    return()
  endif()
  if(installed)
    if(NOT EXISTS "${installed}")
      message(FATAL_ERROR "drvsign: the installed helper ${installed} (DrvSign::drvsign) is missing; "
                          "reinstall drvsign or set DRVSIGN_EXECUTABLE")
    endif()
    set(${out_var} "${installed}" PARENT_SCOPE)
    return()
  endif()
  get_filename_component(src "${_DRVSIGN_MODULE_DIR}/.." ABSOLUTE)
  if(NOT EXISTS "${src}/cli/cli.c")
    message(FATAL_ERROR "drvsign: no drvsign helper: this DrvSign module is neither installed with "
                        "one nor in a drvsign source tree; set DRVSIGN_EXECUTABLE")
  endif()
  # A separate build with the host compiler: the project's own toolchain builds for Windows.
  # The project's configure has exported CC (the cross compiler); the host build must not see
  # it, nor the cross flags or toolchain.
  set(bin "${CMAKE_BINARY_DIR}/_drvsign_host")
  set(host_env "${CMAKE_COMMAND}" -E env --unset=CC --unset=CXX --unset=CFLAGS --unset=CXXFLAGS
      --unset=LDFLAGS --unset=CMAKE_TOOLCHAIN_FILE)

  # The helper cache: a helper built once for these sources with this host compiler serves
  # every project on the machine. DRVSIGN_HELPER_CACHE (variable or environment) is a
  # directory, or OFF; default ${XDG_CACHE_HOME:-~/.cache}/drvsign (%LOCALAPPDATA% on Windows).
  set(cache_root "")
  if(DEFINED DRVSIGN_HELPER_CACHE)
    set(cache_root "${DRVSIGN_HELPER_CACHE}")
  elseif(DEFINED ENV{DRVSIGN_HELPER_CACHE})
    set(cache_root "$ENV{DRVSIGN_HELPER_CACHE}")
  elseif(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
    set(cache_root "$ENV{XDG_CACHE_HOME}/drvsign")
  elseif(CMAKE_HOST_WIN32 AND DEFINED ENV{LOCALAPPDATA})
    set(cache_root "$ENV{LOCALAPPDATA}/drvsign")
  elseif(DEFINED ENV{HOME})
    set(cache_root "$ENV{HOME}/.cache/drvsign")
  endif()
  if(cache_root MATCHES "^(ON|YES|TRUE|1)$")
    message(FATAL_ERROR "drvsign: DRVSIGN_HELPER_CACHE is a directory or OFF, not ${cache_root}")
  endif()
  unset(host_cc)
  if(cache_root AND NOT cache_root MATCHES "^(OFF|NO|FALSE|0)$")
    # the key: every source file of the helper, the host compiler (path and version) and host
    find_program(host_cc NAMES cc gcc clang NO_CACHE NO_CMAKE_FIND_ROOT_PATH)
  endif()
  set(cached "")
  if(host_cc)
    execute_process(COMMAND "${host_cc}" --version OUTPUT_VARIABLE cc_version ERROR_QUIET)
    file(GLOB_RECURSE key_files RELATIVE "${src}" "${src}/lib/*" "${src}/pipeline/*" "${src}/cli/*"
         "${src}/include/*")
    list(SORT key_files)
    set(key_text "${CMAKE_HOST_SYSTEM_NAME} ${CMAKE_HOST_SYSTEM_PROCESSOR} ${host_cc} ${cc_version}")
    foreach(f CMakeLists.txt ${key_files})
      file(SHA256 "${src}/${f}" h)
      string(APPEND key_text "\n${f} ${h}")
    endforeach()
    string(SHA256 key "${key_text}")
    string(SUBSTRING "${key}" 0 24 key)
    set(cached "${cache_root}/${key}/drvsign${CMAKE_HOST_EXECUTABLE_SUFFIX}")
    # Concurrent configures take turns: the first builds and fills the cache, the others wait
    # and take its helper. The lock goes with the process, so a killed configure leaves none.
    file(MAKE_DIRECTORY "${cache_root}")
    file(LOCK "${cache_root}/${key}.lock" GUARD FUNCTION TIMEOUT 900 RESULT_VARIABLE locked)
    if(NOT locked EQUAL 0)
      message(WARNING "drvsign: cannot lock the helper cache (${locked}); building in this tree")
      set(cached "")
    elseif(EXISTS "${cached}")
      message(STATUS "drvsign: using the cached host helper ${cached}")
      set(${out_var} "${cached}" PARENT_SCOPE)
      return()
    endif()
  endif()

  if(NOT EXISTS "${bin}/CMakeCache.txt")
    message(STATUS "drvsign: building the host helper in ${bin}")
    set(cc_arg "")
    if(host_cc)
      set(cc_arg "-DCMAKE_C_COMPILER=${host_cc}") # the compiler the cache key names
    endif()
    execute_process(
      COMMAND ${host_env} "${CMAKE_COMMAND}" -S "${src}" -B "${bin}" -DCMAKE_BUILD_TYPE=Release
              -DDRVSIGN_BUILD_TESTS=OFF ${cc_arg}
      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(rc)
      message(FATAL_ERROR "drvsign: configuring the host helper failed:\n${out}${err}")
    endif()
  endif()
  execute_process(COMMAND ${host_env} "${CMAKE_COMMAND}" --build "${bin}" --config Release --target drvsign
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc)
    message(FATAL_ERROR "drvsign: building the host helper failed:\n${out}${err}")
  endif()
  find_program(_drvsign_built drvsign HINTS "${bin}" "${bin}/Release" NO_DEFAULT_PATH NO_CACHE)
  if(NOT _drvsign_built)
    message(FATAL_ERROR "drvsign: the host helper build produced no drvsign in ${bin}")
  endif()
  if(cached)
    # into place by rename, so a reader never finds half a file
    get_filename_component(cached_dir "${cached}" DIRECTORY)
    file(MAKE_DIRECTORY "${cached_dir}")
    file(COPY_FILE "${_drvsign_built}" "${cached}.tmp" RESULT rc)
    if(NOT rc)
      file(RENAME "${cached}.tmp" "${cached}" RESULT rc)
    endif()
    if(NOT rc)
      message(STATUS "drvsign: host helper cached as ${cached}")
      set(${out_var} "${cached}" PARENT_SCOPE)
      return()
    endif()
    message(WARNING "drvsign: cannot fill the helper cache (${rc}); using the helper in ${bin}")
  endif()
  set(${out_var} "${_drvsign_built}" PARENT_SCOPE)
endfunction()

# The file name a target's build produces, known at configure time for the plan. where: the
# function and argument, for the message.
function(_drvsign_target_file_name target out_var where)
  get_target_property(type ${target} TYPE)
  get_target_property(output_name ${target} OUTPUT_NAME)
  get_target_property(prefix ${target} PREFIX)
  get_target_property(suffix ${target} SUFFIX)
  if(NOT output_name)
    set(output_name ${target})
  endif()
  if(type STREQUAL "EXECUTABLE")
    set(default_prefix "")
    set(default_suffix "${CMAKE_EXECUTABLE_SUFFIX}")
  elseif(type STREQUAL "SHARED_LIBRARY")
    set(default_prefix "${CMAKE_SHARED_LIBRARY_PREFIX}")
    set(default_suffix "${CMAKE_SHARED_LIBRARY_SUFFIX}")
  elseif(type STREQUAL "MODULE_LIBRARY")
    set(default_prefix "${CMAKE_SHARED_MODULE_PREFIX}")
    set(default_suffix "${CMAKE_SHARED_MODULE_SUFFIX}")
  else()
    message(FATAL_ERROR "${where} names ${target}, a ${type}; it takes executables and shared or "
                        "module libraries (what becomes a .sys, .dll or .exe)")
  endif()
  if(prefix STREQUAL "prefix-NOTFOUND")
    set(prefix "${default_prefix}")
  endif()
  if(suffix STREQUAL "suffix-NOTFOUND")
    set(suffix "${default_suffix}")
  endif()
  set(${out_var} "${prefix}${output_name}${suffix}" PARENT_SCOPE)
endfunction()

# What cmake_parse_arguments(... arg ...) left for the caller fn (e.g. "add_x(name)"): unknown
# arguments, and keywords given without a value (except those in may_be_empty), each an error in
# the module's words.
function(_drvsign_check_arguments fn keywords may_be_empty)
  if(arg_UNPARSED_ARGUMENTS)
    list(JOIN keywords ", " known)
    list(JOIN arg_UNPARSED_ARGUMENTS " " unknown)
    message(FATAL_ERROR "${fn}: unknown argument(s) '${unknown}'; the arguments are ${known}")
  endif()
  foreach(k IN LISTS arg_KEYWORDS_MISSING_VALUES)
    if(NOT k IN_LIST may_be_empty)
      message(FATAL_ERROR "${fn}: ${k} is given without a value")
    endif()
  endforeach()
endfunction()

# value must match regex, else: "<fn>: <keyword> is <what>, not '<value>'"
function(_drvsign_check_value fn keyword value regex what)
  if(NOT "${value}" MATCHES "${regex}")
    message(FATAL_ERROR "${fn}: ${keyword} is ${what}, not '${value}'")
  endif()
endfunction()

# Append one manifest line, key "value", to the variable out_var (in the caller's scope), the
# value escaped as the manifest format says (README, "The package manifest").
function(_drvsign_manifest_line out_var _key _value)
  string(REPLACE "\\" "\\\\" _value "${_value}")
  string(REPLACE "\"" "\\\"" _value "${_value}")
  string(REPLACE "\n" "\\n" _value "${_value}")
  string(REPLACE "\r" "\\r" _value "${_value}")
  string(REPLACE "\t" "\\t" _value "${_value}")
  set(${out_var} "${${out_var}}${_key} \"${_value}\"\n" PARENT_SCOPE)
endfunction()

# Write content to path unless it holds that already (the build's rules depend on the
# manifests: an unchanged one must keep its time), through a temp file renamed into place.
function(_drvsign_write_if_changed path content)
  if(EXISTS "${path}")
    file(READ "${path}" old)
    if(old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE "${path}.tmp" "${content}")
  file(RENAME "${path}.tmp" "${path}")
endfunction()

# A name the module makes targets, folders and test names from: checked before anything is made.
function(_drvsign_check_package_name fn name cab)
  if(TARGET ${name})
    message(FATAL_ERROR "${fn}: the package name '${name}' is already a target (a driver, a "
                        "library or another package); name the package differently, for example "
                        "${name}_package")
  endif()
  if(NOT name MATCHES "^[A-Za-z0-9_.-]+$" OR name MATCHES "^drvsign_")
    message(FATAL_ERROR "${fn}: the package name '${name}' becomes a target and the package "
                        "folder: use letters, digits, '.', '_' and '-' (and no drvsign_ prefix)")
  endif()
  string(LENGTH "${name}" length)
  if(cab AND length GREATER_EQUAL 40)
    message(FATAL_ERROR "${fn}: the package name '${name}' is the folder in the SUBMISSION_CAB, "
                        "and Partner Center takes folder names under 40 characters")
  endif()
endfunction()

function(_drvsign_add_package called name)
  # the arguments, one list per kind: a new one is a word here and a check below
  set(flags PAGE_HASHES)
  set(single INF ARCH DRIVER_VERSION DRIVER_DATE KMDF_VERSION UMDF_VERSION CATALOG_VERSION SIGN_MODE
             ARCHIVE OUTPUT_DIRECTORY SIGNATURES)
  set(multi TARGETS FILES BOOT_START OS TIMESTAMP_URL SUBMISSION_CAB)
  set(fn "${called}(${name})")
  cmake_parse_arguments(PARSE_ARGV 2 arg "${flags}" "${single}" "${multi}")
  _drvsign_check_arguments("${fn}" "${flags};${single};${multi}" "SUBMISSION_CAB")
  set(want_cab OFF)
  if("SUBMISSION_CAB" IN_LIST arg_KEYWORDS_MISSING_VALUES OR DEFINED arg_SUBMISSION_CAB)
    set(want_cab ON)
  endif()
  _drvsign_check_package_name("${fn}" "${name}" ${want_cab})
  if(NOT DEFINED arg_INF)
    message(FATAL_ERROR "${fn}: INF is required (the package's .inf, or an .inx to stamp)")
  endif()
  get_filename_component(inf "${arg_INF}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${inf}" OR IS_DIRECTORY "${inf}")
    message(FATAL_ERROR "${fn}: INF ${inf} does not exist")
  endif()
  _drvsign_check_value("${fn}" INF "${arg_INF}" "\\.([iI][nN][fFxX])$" "an .inf or .inx file")
  if(NOT DEFINED arg_DRIVER_VERSION AND PROJECT_VERSION)
    set(arg_DRIVER_VERSION "${PROJECT_VERSION}") # project(... VERSION w.x.y.z) versions the driver
  endif()
  # CATALOG_VERSION, ARCHIVE, OS, TIMESTAMP_URL, the production credentials and StampInf's
  # DRIVER_VERSION, DRIVER_DATE, KMDF_VERSION and UMDF_VERSION are the library's parameters:
  # its validator checks their values in the plan step below, in these names. Only the syntax
  # is CMake's to check: the manifest carries CATALOG_VERSION as a number.
  if(DEFINED arg_CATALOG_VERSION)
    _drvsign_check_value("${fn}" CATALOG_VERSION "${arg_CATALOG_VERSION}" "^[0-9]+$" "a number")
  endif()
  list(LENGTH arg_SUBMISSION_CAB cab_values)
  if(cab_values GREATER 1)
    message(FATAL_ERROR "${fn}: SUBMISSION_CAB takes at most one file name, not '${arg_SUBMISSION_CAB}'")
  elseif(cab_values EQUAL 1)
    _drvsign_check_value("${fn}" SUBMISSION_CAB "${arg_SUBMISSION_CAB}" "^[^/\\\\]+\\.[cC][aA][bB]$"
                         "a file name ending in .cab (it goes beside the package)")
  endif()
  _drvsign_helper(helper)

  # architecture and target OS
  if(NOT arg_ARCH)
    string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" cpu)
    if(cpu MATCHES "^(x86_64|amd64|x64)$")
      set(arg_ARCH amd64)
    elseif(cpu MATCHES "^(i[3-6]86|x86)$")
      set(arg_ARCH x86)
    elseif(cpu MATCHES "^(aarch64|arm64)$")
      set(arg_ARCH arm64)
    else()
      message(FATAL_ERROR "${fn}: cannot tell the architecture from CMAKE_SYSTEM_PROCESSOR "
                          "'${CMAKE_SYSTEM_PROCESSOR}'; give ARCH")
    endif()
  endif()
  _drvsign_check_value("${fn}" ARCH "${arg_ARCH}" "^(amd64|x86|arm64)$" "amd64, x86 or arm64")
  if(NOT arg_OS)
    set(default_os_amd64 10_X64)
    set(default_os_x86 10_X86)
    set(default_os_arm64 Server10_ARM64) # what cargo-wdk passes; Inf2Cat has no 10_ARM64
    set(arg_OS ${default_os_${arg_ARCH}})
  endif()
  if(NOT DEFINED arg_SIGN_MODE) # not if(NOT ...): "off" is false to CMake
    set(arg_SIGN_MODE test)
  endif()
  _drvsign_check_value("${fn}" SIGN_MODE "${arg_SIGN_MODE}" "^(off|test|production)$"
                       "off, test or production")
  set(signatures "")
  if(arg_SIGNATURES)
    if(NOT arg_SIGN_MODE STREQUAL "production")
      message(FATAL_ERROR
        "${fn}: SIGNATURES needs SIGN_MODE production (test "
        "signatures come from a test identity of each build tree, which no other tree trusts)")
    endif()
    get_filename_component(signatures "${arg_SIGNATURES}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  endif()

  # where things go; multi-config generators get one package per configuration
  get_property(multi GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
  set(config_dir "")
  if(multi)
    set(config_dir "/$<CONFIG>")
  endif()
  if(arg_OUTPUT_DIRECTORY)
    get_filename_component(out_base "${arg_OUTPUT_DIRECTORY}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  else()
    set(out_base "${CMAKE_CURRENT_BINARY_DIR}/${name}-package")
  endif()
  set(outdir "${out_base}${config_dir}")
  set(pkgdir "${outdir}/${name}")
  set(work_base "${CMAKE_CURRENT_BINARY_DIR}/drvsign/${name}")
  set(work "${work_base}${config_dir}")
  set(identity "${CMAKE_BINARY_DIR}/drvsign-test-identity")
  set(cab "")
  set(cab_leaf "")
  if(want_cab)
    if(arg_SUBMISSION_CAB)
      set(cab_leaf "${arg_SUBMISSION_CAB}")
    else()
      set(cab_leaf "${name}.cab")
    endif()
    set(cab "${outdir}/${cab_leaf}")
  endif()
  set(archive "")
  if(arg_ARCHIVE)
    set(archive "${outdir}/${name}.${arg_ARCHIVE}")
  endif()
  file(MAKE_DIRECTORY "${work_base}")

  # what provides each file, by name (known now) and by path (known at generate time)
  set(provides "")
  set(genex_files OFF)
  set(file_lines "")      # plain paths, known now
  set(generated_paths "") # generator expressions: each written to a file at generate time
  foreach(t IN LISTS arg_TARGETS)
    if(NOT TARGET ${t})
      message(FATAL_ERROR "${fn}: TARGETS names ${t}, which is not a target (define it before "
                          "${called}, or give a file in FILES)")
    endif()
    _drvsign_target_file_name(${t} fname "${fn}: TARGETS")
    list(APPEND provides "${fname}")
    list(APPEND generated_paths "$<TARGET_FILE:${t}>")
    set(source_of_${fname} "$<TARGET_FILE:${t}>")
    set(dep_of_${fname} ${t})
  endforeach()
  foreach(f IN LISTS arg_FILES)
    if(f MATCHES "^\\$<")
      list(APPEND generated_paths "${f}")
      set(genex_files ON)
      continue() # a generator expression: its name is known only at build time
    endif()
    get_filename_component(f "${f}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    get_source_file_property(generated "${f}" GENERATED)
    if(NOT EXISTS "${f}" AND NOT generated)
      message(FATAL_ERROR "${fn}: FILES names ${f}, which does not exist (a file made by the "
                          "build: give a custom command's OUTPUT, or a generator expression)")
    endif()
    get_filename_component(fname "${f}" NAME)
    list(APPEND provides "${fname}")
    _drvsign_manifest_line(file_lines file "${f}")
    set(source_of_${fname} "${f}")
    string(REPLACE ";" "\\;" dep_of_${fname} "${f}") # one list element, ';' and all
  endforeach()
  set(boot_lines "")
  foreach(b IN LISTS arg_BOOT_START)
    if(TARGET ${b})
      _drvsign_target_file_name(${b} bname "${fn}: BOOT_START")
    else()
      get_filename_component(bname "${b}" NAME)
    endif()
    if(NOT bname IN_LIST provides AND NOT genex_files)
      message(FATAL_ERROR "${fn}: BOOT_START names ${b}, which is not in TARGETS or FILES (only a "
                          "binary of the package can be embed-signed)")
    endif()
    _drvsign_manifest_line(boot_lines boot_start "${bname}")
    list(APPEND boot_names "${bname}")
  endforeach()

  # the manifest (format: README, "The package manifest"): everything a step needs
  set(common "# drvsign package manifest for ${name}, written by DrvSign.cmake\ndrvsign-manifest 1\n")
  _drvsign_manifest_line(common name "${name}")
  _drvsign_manifest_line(common inf "${inf}")
  _drvsign_manifest_line(common arch "${arg_ARCH}")
  _drvsign_manifest_line(common sign_mode "${arg_SIGN_MODE}")
  foreach(o IN LISTS arg_OS)
    _drvsign_manifest_line(common os "${o}")
  endforeach()
  foreach(k DRIVER_VERSION DRIVER_DATE KMDF_VERSION UMDF_VERSION CATALOG_VERSION)
    string(TOLOWER ${k} key)
    if(arg_${k})
      _drvsign_manifest_line(common ${key} "${arg_${k}}")
    endif()
  endforeach()
  if(arg_PAGE_HASHES)
    _drvsign_manifest_line(common page_hashes 1)
  endif()
  foreach(u IN LISTS arg_TIMESTAMP_URL DRVSIGN_TIMESTAMP_URLS)
    _drvsign_manifest_line(common timestamp_url "${u}")
  endforeach()
  foreach(c IN LISTS DRVSIGN_ADD_CERTS)
    _drvsign_manifest_line(common add_cert "${c}")
  endforeach()
  foreach(k PFX CERT KEY PASSWORD_FILE PKCS11_MODULE)
    string(TOLOWER ${k} key)
    if(DRVSIGN_${k})
      _drvsign_manifest_line(common ${key} "${DRVSIGN_${k}}")
    endif()
  endforeach()
  foreach(a IN LISTS DRVSIGN_SIGNER_COMMAND)
    _drvsign_manifest_line(common signer_arg "${a}")
  endforeach()
  if(signatures)
    _drvsign_manifest_line(common signatures "${signatures}")
  endif()
  if(arg_ARCHIVE)
    _drvsign_manifest_line(common archive_format "${arg_ARCHIVE}")
  endif()
  if(DRVSIGN_CA)
    _drvsign_manifest_line(common ca "${DRVSIGN_CA}")
  endif()
  _drvsign_manifest_line(common identity "${identity}")
  string(APPEND common "${boot_lines}")

  # configure time: the plan, with early errors for missing files, and the library's validator
  # on every parameter the build will pass it (OS ids, CATALOG_VERSION, ARCHIVE, TIMESTAMP_URL,
  # the production credentials), each problem one line in the names above
  set(plan_manifest "${work_base}/plan.manifest")
  set(plan_text "${common}")
  _drvsign_manifest_line(plan_text output "${work_base}/plan-package")
  _drvsign_manifest_line(plan_text work "${work_base}")
  foreach(p IN LISTS provides)
    _drvsign_manifest_line(plan_text provides "${p}")
  endforeach()
  _drvsign_write_if_changed("${plan_manifest}" "${plan_text}")
  execute_process(COMMAND "${helper}" package --manifest "${plan_manifest}" plan
                  RESULT_VARIABLE rc OUTPUT_VARIABLE plan ERROR_VARIABLE err)
  if(rc)
    message(FATAL_ERROR "${fn}:\n${err}")
  endif()
  # DEPENDS and properties are lists: a ';' in the source path stays in it escaped
  string(REPLACE ";" "\\;" inf_dep "${inf}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${inf_dep}")
  # the plan is CMake code (bracket arguments) that sets _drvsign_plan_*
  set(_drvsign_plan_inf "")
  set(_drvsign_plan_catalogs "")
  set(_drvsign_plan_sources "")
  set(_drvsign_plan_rels "")
  cmake_language(EVAL CODE "${plan}")
  set(inf_name "${_drvsign_plan_inf}")
  set(catalogs ${_drvsign_plan_catalogs})
  set(staged_names ${_drvsign_plan_sources})
  foreach(n r IN ZIP_LISTS _drvsign_plan_sources _drvsign_plan_rels)
    set(rel_of_${n} "${r}")
  endforeach()

  # build time: the manifest with real paths, one per configuration. Written now, with
  # escaping; what only the generator knows (a target's file) goes through file(GENERATE)
  # into files of their own, which the manifest names (file_from).
  set(manifest "${work}/manifest.txt")
  set(config_names "${CMAKE_BUILD_TYPE}")
  if(multi)
    set(config_names ${CMAKE_CONFIGURATION_TYPES})
  endif()
  set(i 0)
  foreach(g IN LISTS generated_paths)
    file(GENERATE OUTPUT "${work}/inputs/${i}.path" CONTENT "${g}")
    math(EXPR i "${i} + 1")
  endforeach()
  foreach(config IN LISTS config_names ITEMS "")
    if(multi AND config STREQUAL "")
      continue()
    endif()
    set(sub "")
    if(multi)
      set(sub "/${config}")
    endif()
    set(text "${common}${file_lines}")
    set(i 0)
    foreach(g IN LISTS generated_paths)
      _drvsign_manifest_line(text file_from "${work_base}${sub}/inputs/${i}.path")
      math(EXPR i "${i} + 1")
    endforeach()
    _drvsign_manifest_line(text output "${out_base}${sub}/${name}")
    _drvsign_manifest_line(text work "${work_base}${sub}")
    if(cab_leaf)
      _drvsign_manifest_line(text cab "${out_base}${sub}/${cab_leaf}")
    endif()
    if(arg_ARCHIVE)
      _drvsign_manifest_line(text archive "${out_base}${sub}/${name}.${arg_ARCHIVE}")
    endif()
    file(MAKE_DIRECTORY "${work_base}${sub}")
    _drvsign_write_if_changed("${work_base}${sub}/manifest.txt" "${text}")
    if(NOT multi)
      break()
    endif()
  endforeach()
  set(run "${helper}" package --manifest "${manifest}")

  # the test identity: one per build tree
  set(identity_files "")
  if(arg_SIGN_MODE STREQUAL "test")
    set(identity_files "${identity}/signing.pfx" "${identity}/root.cer" "${identity}/root.pem")
    if(NOT TARGET drvsign_test_identity)
      add_custom_command(OUTPUT ${identity_files}
        COMMAND "${helper}" testcert --quiet --out "${identity}" --subject "${PROJECT_NAME} test signing"
        COMMENT "drvsign: creating the test-signing identity"
        VERBATIM)
      add_custom_target(drvsign_test_identity DEPENDS ${identity_files})
    endif()
  endif()

  # StampInf
  set(stamped "${work}/${inf_name}")
  add_custom_command(OUTPUT "${stamped}"
    COMMAND ${run} stamp "${stamped}"
    DEPENDS "${inf_dep}" "${manifest}" "${helper}"
    COMMENT "drvsign: stamping ${inf_name}"
    VERBATIM)

  # staging: one rule per file, so a rebuilt driver re-stages (and re-signs) only itself
  set(staged "${pkgdir}/${inf_name}")
  add_custom_command(OUTPUT "${pkgdir}/${inf_name}"
    COMMAND ${run} stage "${inf_name}"
    DEPENDS "${stamped}" "${manifest}"
    COMMENT "drvsign: staging ${inf_name}"
    VERBATIM)
  foreach(n IN LISTS staged_names)
    if(NOT DEFINED source_of_${n})
      continue() # provided by a FILES generator expression: staged with the catalog's inputs
    endif()
    set(extra "")
    if(n IN_LIST boot_names)
      list(APPEND extra ${identity_files})
    endif()
    # no dependency on the INF: a layout change re-runs configure (CMAKE_CONFIGURE_DEPENDS)
    add_custom_command(OUTPUT "${pkgdir}/${rel_of_${n}}"
      COMMAND ${run} stage "${n}"
      DEPENDS "${dep_of_${n}}" "${manifest}" ${extra}
      COMMENT "drvsign: staging ${rel_of_${n}}"
      VERBATIM)
    list(APPEND staged "${pkgdir}/${rel_of_${n}}")
  endforeach()

  # Inf2Cat, then SignTool on the catalogs
  set(unsigned "")
  set(signed "")
  foreach(c IN LISTS catalogs)
    list(APPEND unsigned "${work}/unsigned/${c}")
    list(APPEND signed "${pkgdir}/${c}")
  endforeach()
  add_custom_command(OUTPUT ${unsigned}
    COMMAND ${run} catalog
    DEPENDS ${staged} "${manifest}"
    COMMENT "drvsign: cataloguing ${name}"
    VERBATIM)
  add_custom_command(OUTPUT ${signed}
    COMMAND ${run} sign-catalog
    DEPENDS ${unsigned} "${manifest}" ${identity_files}
    COMMENT "drvsign: signing the catalog of ${name}"
    VERBATIM)
  set(final ${staged} ${signed})
  if(arg_SIGN_MODE STREQUAL "test")
    add_custom_command(OUTPUT "${outdir}/root.cer"
      COMMAND "${CMAKE_COMMAND}" -E copy "${identity}/root.cer" "${outdir}/root.cer"
      DEPENDS "${identity}/root.cer" ${signed}
      VERBATIM)
    list(APPEND final "${outdir}/root.cer")
  endif()
  if(cab)
    add_custom_command(OUTPUT "${cab}"
      COMMAND ${run} cab
      DEPENDS ${staged} ${signed} "${manifest}"
      COMMENT "drvsign: packing the submission cabinet ${cab}"
      VERBATIM)
    list(APPEND final "${cab}")
  endif()
  if(archive)
    add_custom_command(OUTPUT "${archive}"
      COMMAND ${run} archive
      DEPENDS ${staged} ${signed} "${manifest}"
      COMMENT "drvsign: archiving ${name}"
      VERBATIM)
    list(APPEND final "${archive}")
  endif()
  add_custom_command(OUTPUT "${work}/summary.stamp"
    COMMAND ${run} summary
    COMMAND "${CMAKE_COMMAND}" -E touch "${work}/summary.stamp"
    DEPENDS ${final}
    VERBATIM)
  # every build ends by saying where the package is, also when there was nothing to redo
  set(where "drvsign: package ${name}: ${pkgdir}")
  if(cab)
    string(APPEND where " (submission cabinet ${cab})")
  endif()
  add_custom_target(${name} ALL COMMAND "${CMAKE_COMMAND}" -E echo "${where}"
                    DEPENDS "${work}/summary.stamp" ${final} VERBATIM)
  if(TARGET drvsign_test_identity AND arg_SIGN_MODE STREQUAL "test")
    add_dependencies(${name} drvsign_test_identity)
  endif()
  set_target_properties(${name} PROPERTIES
    DRVSIGN_PACKAGE_DIR "${pkgdir}"
    DRVSIGN_MANIFEST "${manifest}"
    DRVSIGN_HELPER "${helper}"
    DRVSIGN_SIGN_MODE "${arg_SIGN_MODE}"
    DRVSIGN_IDENTITY "${identity}"
    DRVSIGN_CAB "${cab}"
    DRVSIGN_SIGNATURES "${signatures}"
    DRVSIGN_OS "${arg_OS}")
endfunction()

# name must be a package that drvsign_add_package() made
function(_drvsign_check_package fn name)
  if(NOT TARGET ${name})
    message(FATAL_ERROR "${fn}: ${name} is not a package; call drvsign_add_package(${name} ...) first")
  endif()
  get_target_property(pkgdir ${name} DRVSIGN_PACKAGE_DIR)
  if(NOT pkgdir)
    message(FATAL_ERROR "${fn}: ${name} is a target, but not a package from drvsign_add_package()")
  endif()
endfunction()

function(_drvsign_install_package called name)
  set(fn "${called}(${name})")
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "DESTINATION;COMPONENT" "")
  _drvsign_check_arguments("${fn}" "DESTINATION;COMPONENT" "")
  _drvsign_check_package("${fn}" "${name}")
  if(NOT DEFINED arg_DESTINATION)
    message(FATAL_ERROR "${fn}: DESTINATION is required (the directory the package folder goes in)")
  endif()
  get_target_property(pkgdir ${name} DRVSIGN_PACKAGE_DIR)
  get_target_property(manifest ${name} DRVSIGN_MANIFEST)
  get_target_property(helper ${name} DRVSIGN_HELPER)
  get_target_property(mode ${name} DRVSIGN_SIGN_MODE)
  get_target_property(cab ${name} DRVSIGN_CAB)
  get_target_property(signatures ${name} DRVSIGN_SIGNATURES)
  # a production build with stored signatures is release-signed already: re-sign only when
  # credentials are given at install time
  set(resign_as_built OFF)
  if(mode STREQUAL "production" AND NOT signatures)
    set(resign_as_built ON)
  endif()
  set(component "")
  if(arg_COMPONENT)
    set(component COMPONENT "${arg_COMPONENT}")
  endif()
  install(DIRECTORY "${pkgdir}/" DESTINATION "${arg_DESTINATION}/${name}" ${component})
  # Release-sign the installed copy with the credentials found now, at install time.
  install(CODE "
    set(dest \"${arg_DESTINATION}\")
    if(NOT IS_ABSOLUTE \"\${dest}\")
      set(dest \"\${CMAKE_INSTALL_PREFIX}/\${dest}\")
    endif()
    if(DEFINED ENV{DESTDIR})
      set(dest \"\$ENV{DESTDIR}\${dest}\")
    endif()
    if(DEFINED ENV{DRVSIGN_PFX} OR DEFINED ENV{DRVSIGN_CERT} OR ${resign_as_built})
      message(STATUS \"drvsign: release-signing \${dest}/${name}\")
      execute_process(COMMAND \"${helper}\" package --manifest \"${manifest}\" resign \"\${dest}/${name}\"
                      RESULT_VARIABLE rc)
      if(rc)
        message(FATAL_ERROR \"drvsign: release-signing the installed package failed (see above)\")
      endif()
    else()
      if(NOT \"${cab}\" STREQUAL \"\")
        file(INSTALL \"${cab}\" DESTINATION \"\${dest}\")
      endif()
      message(STATUS \"drvsign: installed ${name} as built (${mode} signing); set DRVSIGN_PFX or \"
                     \"DRVSIGN_CERT/DRVSIGN_KEY at install time to release-sign it\")
    endif()
  " ${component})
endfunction()

function(_drvsign_add_package_test called name)
  set(fn "${called}(${name})")
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "NAME;CA" "")
  _drvsign_check_arguments("${fn}" "NAME;CA" "")
  _drvsign_check_package("${fn}" "${name}")
  if(NOT arg_NAME)
    set(arg_NAME "${name}.verify")
  endif()
  if(TEST "${arg_NAME}")
    message(FATAL_ERROR "${fn}: there is a test named ${arg_NAME} already; give NAME")
  endif()
  if(DEFINED arg_CA)
    get_filename_component(arg_CA "${arg_CA}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${arg_CA}")
      message(FATAL_ERROR "${fn}: CA ${arg_CA} does not exist")
    endif()
  endif()
  get_target_property(pkgdir ${name} DRVSIGN_PACKAGE_DIR)
  get_target_property(helper ${name} DRVSIGN_HELPER)
  get_target_property(mode ${name} DRVSIGN_SIGN_MODE)
  get_target_property(identity ${name} DRVSIGN_IDENTITY)
  get_target_property(os ${name} DRVSIGN_OS)
  set(ca "")
  if(arg_CA)
    set(ca "${arg_CA}")
  elseif(mode STREQUAL "test")
    set(ca "${identity}/root.pem")
  elseif(DRVSIGN_CA)
    set(ca "${DRVSIGN_CA}")
  endif()
  list(JOIN os "," os_list)
  if(ca STREQUAL "")
    add_test(NAME "${arg_NAME}" COMMAND "${helper}" verify --package "${pkgdir}" --os "${os_list}")
  else()
    add_test(NAME "${arg_NAME}" COMMAND "${helper}" verify --package "${pkgdir}" --os "${os_list}"
                                        --ca "${ca}")
  endif()
endfunction()

# The public commands and their earlier names: each calls the implementation with the name it
# was called by (for messages) and its own arguments exactly as given. ${ARGV} would split
# list-valued and drop empty arguments, so each goes as a bracket argument, its '='s chosen so
# no value can end it. The caller sets _drvsign_argc to its ARGC (a macro's ${ARGC} is its own).
macro(_drvsign_forward impl called)
  set(_drvsign_call "")
  set(_drvsign_i 0)
  while(_drvsign_i LESS _drvsign_argc)
    set(_drvsign_v "${ARGV${_drvsign_i}}")
    set(_drvsign_eq "=")
    while(_drvsign_v MATCHES "]${_drvsign_eq}]")
      string(APPEND _drvsign_eq "=")
    endwhile()
    if(_drvsign_v MATCHES "^\n")
      set(_drvsign_v "\n${_drvsign_v}") # a bracket argument drops a newline right after [=[
    endif()
    string(APPEND _drvsign_call " [${_drvsign_eq}[${_drvsign_v}]${_drvsign_eq}]")
    math(EXPR _drvsign_i "${_drvsign_i} + 1")
  endwhile()
  cmake_language(EVAL CODE "${impl}(${called}${_drvsign_call})")
endmacro()

function(drvsign_add_package)
  set(_drvsign_argc ${ARGC})
  _drvsign_forward(_drvsign_add_package drvsign_add_package)
endfunction()

function(drvsign_install_package)
  set(_drvsign_argc ${ARGC})
  _drvsign_forward(_drvsign_install_package drvsign_install_package)
endfunction()

function(drvsign_add_package_test)
  set(_drvsign_argc ${ARGC})
  _drvsign_forward(_drvsign_add_package_test drvsign_add_package_test)
endfunction()

# the earlier names (documented above as aliases)
function(add_signed_driver_package)
  set(_drvsign_argc ${ARGC})
  _drvsign_forward(_drvsign_add_package add_signed_driver_package)
endfunction()

function(drvsign_install_driver_package)
  set(_drvsign_argc ${ARGC})
  _drvsign_forward(_drvsign_install_package drvsign_install_driver_package)
endfunction()

function(add_driver_package_test)
  set(_drvsign_argc ${ARGC})
  _drvsign_forward(_drvsign_add_package_test add_driver_package_test)
endfunction()

cmake_policy(POP)
