#!/usr/bin/env bash
# The CMake module's host-helper cache: the first configure of a project builds the helper and
# caches it; other projects on the machine reuse it, also when they configure at the same time;
# a change to the helper's sources builds a new one; DRVSIGN_HELPER_CACHE=OFF builds in the tree.
. "$(dirname "$0")/../lib.sh"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
# a copy of the sources, so that one can change; and a private cache
tree="$WORK/tree"
mkdir -p "$tree"
cp -r "$REPO/CMakeLists.txt" "$REPO/lib" "$REPO/pipeline" "$REPO/cli" "$REPO/include" "$REPO/cmake" "$REPO/example-project" "$tree/"
export XDG_CACHE_HOME="$WORK/cache"
unset DRVSIGN_HELPER_CACHE
conf() { # build-dir [cmake args]: configure the example against the copied module
  local b=$1
  shift
  cmake -S "$tree/example-project" -B "$b" -G Ninja -DDrvSign_DIR="$tree/cmake" "$@" >"$b.log" 2>&1
}
helpers() { find "$XDG_CACHE_HOME/drvsign" -name drvsign -type f 2>/dev/null | wc -l; }

conf "$WORK/p1" & p1=$!
conf "$WORK/p2" & p2=$!
rc=0
wait $p1 || rc=1
wait $p2 || rc=1
check "two projects configure at the same time" test $rc -eq 0
check "... one of them built the helper, the other waited and took it from the cache" bash -c "
  [ \$(cat '$WORK/p1.log' '$WORK/p2.log' | grep -c 'building the host helper') -eq 1 ] &&
  [ \$(cat '$WORK/p1.log' '$WORK/p2.log' | grep -c 'using the cached host helper') -eq 1 ]"
check "... and the cache holds one helper" test "$(helpers)" -eq 1
cached=$(find "$XDG_CACHE_HOME/drvsign" -name drvsign -type f)
check "the cached helper runs" "$cached" --version
check "a third project reuses it without building" bash -c "
  conf() { $(declare -f conf | tail -n +2); }; tree='$tree' conf '$WORK/p3' &&
  grep -q 'using the cached host helper $cached' '$WORK/p3.log' && ! grep -q 'building the host helper' '$WORK/p3.log' &&
  grep -q '$cached' '$WORK/p3/build.ninja'"
check "... and builds the package with it" bash -c "cmake --build '$WORK/p3' >'$WORK/p3-build.log' 2>&1 &&
  '$cached' verify --package '$WORK/p3/toastpkg-package/toastpkg' --ca '$WORK/p3/drvsign-test-identity/root.pem'"
echo "/* changed */" >>"$tree/lib/diag.c"
conf "$WORK/p4"
check "changed helper sources: a new helper is built and cached beside the old one" bash -c "
  grep -q 'building the host helper' '$WORK/p4.log' && [ \$(find '$XDG_CACHE_HOME/drvsign' -name drvsign -type f | wc -l) -eq 2 ]"
conf "$WORK/p5" -DDRVSIGN_HELPER_CACHE=OFF
check "DRVSIGN_HELPER_CACHE=OFF: the helper is built in the project's tree" bash -c "
  grep -q 'building the host helper in $WORK/p5/_drvsign_host' '$WORK/p5.log' && ! grep -q 'cached' '$WORK/p5.log' &&
  [ \$(find '$XDG_CACHE_HOME/drvsign' -name drvsign -type f | wc -l) -eq 2 ]"
check_exit "DRVSIGN_HELPER_CACHE=ON is refused: it takes a directory or OFF" 1 conf "$WORK/p6" -DDRVSIGN_HELPER_CACHE=ON
finish
