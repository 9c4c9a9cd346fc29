#!/usr/bin/env bash
# The CMake module's host-helper cache: the first configure of a project builds the helper and
# caches it; other projects on the machine reuse it, also when they configure at the same time;
# a change to the helper's sources builds a new one; DRVSIGN_HELPER_CACHE=OFF builds in the tree.
#
# Each behaviour configures the example against a copy of the sources (so that one can change)
# with a cache of its own; those that start from a cache holding a helper copy the fixture's
# (filled_cache), so that helper is built once.
. "$(dirname "$0")/../lib.sh"
REPO=$(cd "$(dirname "$0")/../.." && pwd)

# copy_sources DIR: the sources the module builds the helper from, into DIR
copy_sources() {
  mkdir -p "$1" &&
    cp -r "$REPO/CMakeLists.txt" "$REPO/lib" "$REPO/pipeline" "$REPO/cli" "$REPO/include" "$REPO/cmake" \
      "$REPO/example-project" "$1/"
}
# conf BUILD-DIR [cmake args]: configure the example against the copied module (in $tree), with
# the cache in $XDG_CACHE_HOME
conf() {
  local b=$1
  shift
  cmake -S "$tree/example-project" -B "$b" -G Ninja -DDrvSign_DIR="$tree/cmake" "$@" >"$b.log" 2>&1
}
helpers() { find "$XDG_CACHE_HOME/drvsign" -name drvsign -type f 2>/dev/null | wc -l; }

# the sources ($FIXTURE/tree) and an XDG cache ($FIXTURE/cache) holding their helper
fixture_filled_cache() {
  copy_sources "$FIXTURE/tree" || return
  (
    tree="$FIXTURE/tree"
    export XDG_CACHE_HOME="$FIXTURE/cache"
    unset DRVSIGN_HELPER_CACHE
    conf "$FIXTURE/fill" && [ "$(helpers)" -eq 1 ]
  ) || { cat "$FIXTURE/fill.log"; return 1; }
}

# fresh_cache: this behaviour's own sources ($tree) and an empty cache
fresh_cache() {
  tree="$WORK/tree"
  unset DRVSIGN_HELPER_CACHE
  export XDG_CACHE_HOME="$WORK/cache"
  copy_sources "$tree"
}
# filled_cache: this behaviour's own copies of the fixture's sources ($tree) and cache, which
# holds their helper ($cached)
filled_cache() {
  fixture filled_cache || return
  tree="$WORK/tree"
  unset DRVSIGN_HELPER_CACHE
  export XDG_CACHE_HOME="$WORK/cache"
  cp -r "$FIXTURE/tree" "$tree" && cp -r "$FIXTURE/cache" "$XDG_CACHE_HOME" || return
  cached=$(find "$XDG_CACHE_HOME/drvsign" -name drvsign -type f)
  [ "$(helpers)" -eq 1 ]
}

behaviour_concurrent_configures() {
local p1 p2 rc=0
setup "sources and an empty cache" fresh_cache || return
conf "$WORK/p1" & p1=$!
conf "$WORK/p2" & p2=$!
wait $p1 || rc=1
wait $p2 || rc=1
check "two projects configure at the same time" test $rc -eq 0
check "... one of them built the helper, the other waited and took it from the cache" bash -c "
  [ \$(cat '$WORK/p1.log' '$WORK/p2.log' | grep -c 'building the host helper') -eq 1 ] &&
  [ \$(cat '$WORK/p1.log' '$WORK/p2.log' | grep -c 'using the cached host helper') -eq 1 ]"
check "... and the cache holds one helper" test "$(helpers)" -eq 1
}

behaviour_cached_helper_reused() {
setup "sources and a cache holding their helper" filled_cache || return
check "the cached helper runs" "$cached" --version
check "a third project reuses it without building" bash -c "
  conf() { $(declare -f conf | tail -n +2); }; tree='$tree' conf '$WORK/p3' &&
  grep -q 'using the cached host helper $cached' '$WORK/p3.log' && ! grep -q 'building the host helper' '$WORK/p3.log' &&
  grep -q '$cached' '$WORK/p3/build.ninja'"
check "... and builds the package with it" bash -c "cmake --build '$WORK/p3' >'$WORK/p3-build.log' 2>&1 &&
  '$cached' verify --package '$WORK/p3/toastpkg-package/toastpkg' --ca '$WORK/p3/drvsign-test-identity/root.pem'"
}

behaviour_changed_sources() {
setup "sources and a cache holding their helper" filled_cache || return
echo "/* changed */" >>"$tree/lib/diag.c"
conf "$WORK/p4"
check "changed helper sources: a new helper is built and cached beside the old one" bash -c "
  grep -q 'building the host helper' '$WORK/p4.log' && [ \$(find '$XDG_CACHE_HOME/drvsign' -name drvsign -type f | wc -l) -eq 2 ]"
}

behaviour_cache_off() {
setup "sources and a cache holding their helper" filled_cache || return
conf "$WORK/p5" -DDRVSIGN_HELPER_CACHE=OFF
check "DRVSIGN_HELPER_CACHE=OFF: the helper is built in the project's tree" bash -c "
  grep -q 'building the host helper in $WORK/p5/_drvsign_host' '$WORK/p5.log' && ! grep -q 'cached' '$WORK/p5.log' &&
  [ \$(find '$XDG_CACHE_HOME/drvsign' -name drvsign -type f | wc -l) -eq 1 ]"
}

behaviour_cache_on_refused() {
setup "sources and an empty cache" fresh_cache || return
check_exit "DRVSIGN_HELPER_CACHE=ON is refused: it takes a directory or OFF" 1 conf "$WORK/p6" -DDRVSIGN_HELPER_CACHE=ON
}

run_behaviours "$@"
