#!/usr/bin/env bash
# The INFs people write today: the shapes of Visual Studio's driver templates (KMDF, KMDF
# empty, UMDF 2, WDM, filter), an extension INF, a software component INF, a primitive driver,
# a C-style banner and models gated to Windows 11, each catalogued for x64 and arm64 clients
# and servers. The members, the OS attribute and every OSAttr are checked by catcheck.py, an
# independent reader. Also: "nothing applies" errors, CopyINF, a non-driver INF beside the
# package, and hostile Needs chains and CopyFiles lists (issue #12).
. "$(dirname "$0")/../lib.sh"
INFS=$(cd "$(dirname "$0")/../infs" && pwd)
CATCHECK="$PY $(dirname "$0")/../tools/catcheck.py"

declare -A ships=(
  [kmdf]=kmdfdemo.sys [kmdf_empty]="" [umdf2]=umdfdemo.dll [wdm]=wdmdemo.sys
  [filter]=kbfiltdemo.sys [extension]=extdemo.dll [component]=swcdemo.exe
  [primitive]=primdemo.sys [banner]=bannerdemo.sys [win11]=win11demo.sys)
# the OS attribute each id writes (reference 3.3), and the arch it stamps
declare -A token=(
  [10_X64]=_v100_X64 [Server10_X64]=Server_v100_X64 [10_GE_X64]=_v100_X64_24H2
  [Server10_ARM64]=Server_v100_ARM64 [10_GE_ARM64]=_v100_ARM64_24H2 [10_RS3_ARM64]=_v100_ARM64_RS3)

# StampInf, done here with sed so the CLI sees what the WDK's build would give Inf2Cat
stamp() { # INX ARCH OUT
  sed -e "s/\\\$ARCH\\\$/$2/g" -e 's/\$KMDFVERSION\$/1.15/g' -e 's/\$UMDFVERSION\$/2.15.0/g' \
    -e 's|^DriverVer *=.*|DriverVer   = 01/15/2024,1.0.0.1|' "$1" >"$3"
}
binary_for() {
  case $1 in
    *.sys) echo "$DRIVERS/toaster.sys" ;;
    *.dll) echo "$DRIVERS/helper.dll" ;;
    *.exe) echo "$DRIVERS/tool.exe" ;;
  esac
}
catalog_of() { sed -n 's/^CatalogFile *= *\([^ ;]*\).*/\1/p' "$1"; }

stage() { # TEMPLATE OS: the stamped template and what it ships, in $d; its files in members
  local t=$1 os=$2 arch=amd64 f
  case $os in *ARM64) arch=arm64 ;; esac
  d="$WORK/$t-$os"
  mkdir -p "$d"
  stamp "$INFS/$t.inx" $arch "$d/$t.inf"
  members=("$d/$t.inf")
  for f in ${ships[$t]}; do
    cp "$(binary_for "$f")" "$d/$f"
    members+=("$d/$f")
  done
}
template() { # TEMPLATE: catalogued for each OS id
  local t=$1 os d members
  for os in 10_X64 Server10_X64 10_GE_X64 Server10_ARM64 10_GE_ARM64 10_RS3_ARM64; do
    stage $t $os
    check "$t --os $os: catalogues" "$DRVSIGN" catalog --driver "$d" --os $os
    check "$t --os $os: no warning" bash -c "'$DRVSIGN' catalog --driver '$d' --os $os >/dev/null 2>'$WORK/warn'; rc=\$?
      cat '$WORK/warn'; [ \$rc -eq 0 ] && [ ! -s '$WORK/warn' ]"
    check "$t --os $os: exactly its members, OS ${token[$os]}, OSAttr 2:10.0 (catcheck)" \
      $CATCHECK check "$d/$(catalog_of "$d/$t.inf")" --os "${token[$os]}" --osattr 2:10.0 "${members[@]}"
  done
}
behaviour_kmdf() { template kmdf; }
behaviour_kmdf_empty() { template kmdf_empty; }
behaviour_umdf2() { template umdf2; }
behaviour_wdm() { template wdm; }
behaviour_filter() { template filter; }
behaviour_extension() { template extension; }
behaviour_component() { template component; }
behaviour_primitive() { template primitive; }
behaviour_banner() { template banner; }
behaviour_win11() { template win11; }
# both catalog versions carry the same members for a template
behaviour_kmdf_catalog_versions() {
local d members
stage kmdf 10_X64
check "kmdf, catalog version 2: members, compat entries with File/OSAttr (catcheck)" bash -c "
  '$DRVSIGN' catalog --quiet --driver '$d' --os 10_X64 --catalog-version 2 &&
  $CATCHECK check '$d/kmdfdemo.cat' --os _v100_X64 --osattr 2:10.0 '$d/kmdf.inf' '$d/kmdfdemo.sys'"
check "kmdf for 10_X64 and 10_GE_X64 in one catalog: both tokens" bash -c "
  '$DRVSIGN' catalog --quiet --driver '$d' --os 10_X64,10_GE_X64 &&
  $CATCHECK check '$d/kmdfdemo.cat' --os _v100_X64,_v100_X64_24H2 --osattr 2:10.0 '$d/kmdf.inf' '$d/kmdfdemo.sys'"
}

# ---- nothing applies: the error names the decorations and an id that works ----
nothing() { # DESCRIPTION DECORATIONS OS EXPECTED-REGEX
  local d="$WORK/none-$3-${2//[^A-Za-z0-9]/_}" id
  mkdir -p "$d"
  stamp "$INFS/kmdf.inx" amd64 "$d/kmdf.inf"
  sed -i "s/^%ManufacturerName% = Standard,.*/%ManufacturerName% = Standard${2:+,$2}/" "$d/kmdf.inf"
  for dec in ${2//,/ }; do printf '[Standard.%s]\n%%kmdfdemo.DeviceDesc%% = kmdfdemo_Device, Root\\kmdfdemo\n' "$dec" >>"$d/kmdf.inf"; done
  [ -z "$2" ] && printf '[Standard]\n%%kmdfdemo.DeviceDesc%% = kmdfdemo_Device, Root\\kmdfdemo\n' >>"$d/kmdf.inf"
  cp "$DRIVERS/toaster.sys" "$d/kmdfdemo.sys"
  check_error "$1: exits 1, naming each decoration, why, and an id" 1 "$4" "$DRVSIGN" catalog --quiet --driver "$d" --os "$3"
  check "$1: ... never suggests adding a decoration that is there" lacks '[Aa][Dd][Dd] [Aa][Nn] [Nn][Tt]' \
    exits 1 "$DRVSIGN" catalog --quiet --driver "$d" --os "$3"
  id=$("$DRVSIGN" catalog --quiet --driver "$d" --os "$3" 2>&1 | sed -n 's/.*OS id \([A-Za-z0-9_]*\) takes it.*/\1/p' | head -1)
  check "$1: the suggested id ($id) catalogues it" "$DRVSIGN" catalog --quiet --driver "$d" --os "$id"
}
behaviour_nothing_arm64_models_on_x64() {
nothing "arm64 models only, --os 10_X64" "NTarm64.10.0...16299" 10_X64 \
  "kmdf.inf:26: no models section of 'Standard' applies to 10_X64 \(amd64 client, Windows 10.0 build 10240 and later\): NTarm64.10.0...16299 is for arm64 \(OS id 10_RS3_ARM64 takes it\)"
}
behaviour_nothing_server_models_on_client() {
nothing "server models only, --os 10_X64" "NTamd64.10.0.3" 10_X64 \
  "NTamd64.10.0.3 is for servers only \(product type 3\) \(OS id Server10_X64 takes it\)"
}
behaviour_nothing_client_models_on_server() {
nothing "client models only, --os Server10_X64" "NTamd64.10.0.1..16299" Server10_X64 \
  "NTamd64.10.0.1..16299 is for clients only \(product type 1\) \(OS id 10_X64 takes it\)"
}
behaviour_nothing_windows10_models_on_7() {
nothing "Windows 10 models, --os 7_X64" "NTamd64.10.0...16299" 7_X64 \
  "NTamd64.10.0...16299 is for Windows 10.0 and later \(OS id 10_X64 takes it\)"
}
behaviour_nothing_x86_arm64_models_on_x64_server() {
nothing "x86 and arm64 models, --os Server10_X64" "NTx86.10.0,NTarm64.10.0...16299" Server10_X64 \
  "NTx86.10.0 is for x86 \(OS id 10_X86 takes it\); NTarm64.10.0...16299 is for arm64 \(OS id Server10_ARM64 takes it\)"
}
behaviour_nothing_undecorated_models_on_arm64() {
nothing "undecorated models, --os Server10_ARM64" "" Server10_ARM64 \
  "no models section for arm64 \(Server10_ARM64\): \[Standard\] has no decoration, which only x86 takes \(OS id [A-Za-z0-9_]* takes it\); for arm64, decorate it: 'Standard, NTarm64' with \[Standard.NTarm64\]"
}

# ---- the union rule, from the template: 6.1 and 16299 models both go into a 10_X64 catalog ----
behaviour_union() {
local u="$WORK/union"
mkdir -p "$u"
stamp "$INFS/kmdf.inx" amd64 "$u/kmdf.inf"
sed -i -e 's/^%ManufacturerName% = Standard,.*/%ManufacturerName% = Standard,NTamd64.6.1,NTamd64.10.0...16299,NTamd64.10.0.3..20348/' \
  -e 's/^kmdfdemo.sys = 1,,/kmdfdemo.sys = 1,,\nlegacy.sys = 1\nserver.sys = 1/' "$u/kmdf.inf"
cat >>"$u/kmdf.inf" <<'INF'
[Standard.NTamd64.6.1]
%kmdfdemo.DeviceDesc% = Legacy_Device, Root\kmdfdemo
[Legacy_Device.NT]
CopyFiles = @legacy.sys
[Standard.NTamd64.10.0.3..20348]
%kmdfdemo.DeviceDesc% = Server_Device, Root\kmdfdemo
[Server_Device.NT]
CopyFiles = @server.sys
INF
cp "$DRIVERS/toaster.sys" "$u/kmdfdemo.sys"
cp "$DRIVERS/helper.dll" "$u/legacy.sys"
cp "$DRIVERS/tool.exe" "$u/server.sys"
check "union: 10_X64 takes the 6.1 and the 16299 models" bash -c "'$DRVSIGN' catalog --quiet --driver '$u' --os 10_X64 &&
  $CATCHECK check '$u/kmdfdemo.cat' --os _v100_X64 '$u/kmdf.inf' '$u/kmdfdemo.sys' '$u/legacy.sys'"
check "union: 10_RS3_X64 takes the 16299 models only" bash -c "'$DRVSIGN' catalog --quiet --driver '$u' --os 10_RS3_X64 &&
  $CATCHECK check '$u/kmdfdemo.cat' --os _v100_X64_RS3 '$u/kmdf.inf' '$u/kmdfdemo.sys'"
check "union: ServerFE_X64 (20348) takes the server models, and the 16299 ones for domain controllers" bash -c "'$DRVSIGN' catalog --quiet --driver '$u' --os ServerFE_X64 &&
  $CATCHECK check '$u/kmdfdemo.cat' --os Server_v100_X64_21H2 '$u/kmdf.inf' '$u/kmdfdemo.sys' '$u/server.sys'"
check "union: Server10_X64 (14393 on) takes all three" bash -c "'$DRVSIGN' catalog --quiet --driver '$u' --os Server10_X64 &&
  $CATCHECK check '$u/kmdfdemo.cat' --os Server_v100_X64 '$u/kmdf.inf' '$u/kmdfdemo.sys' '$u/legacy.sys' '$u/server.sys'"

}

# ---- CopyINF of a companion, and a non-driver INF beside the package ----
behaviour_copyinf_and_non_driver_infs() {
local ci="$WORK/copyinf" only
mkdir -p "$ci"
stamp "$INFS/kmdf.inx" amd64 "$ci/kmdf.inf"
stamp "$INFS/extension.inx" amd64 "$ci/extension.inf"
sed -i 's/^CopyFiles = File_Copy/CopyFiles = File_Copy\nCopyINF   = extension.inf/' "$ci/kmdf.inf"
cp "$DRIVERS/toaster.sys" "$ci/kmdfdemo.sys"
cp "$DRIVERS/helper.dll" "$ci/extdemo.dll"
printf '[autorun]\r\nopen=setup.exe\r\nicon=setup.exe,0\r\n' >"$ci/autorun.inf"
check "CopyINF: both INFs catalogue" "$DRVSIGN" catalog --quiet --driver "$ci" --os 10_X64
check "CopyINF: the base catalog has the base files only" $CATCHECK check "$ci/kmdfdemo.cat" "$ci/kmdf.inf" "$ci/kmdfdemo.sys"
check "CopyINF: the companion has its own catalog" $CATCHECK check "$ci/extdemo.cat" "$ci/extension.inf" "$ci/extdemo.dll"
check_output "autorun.inf is skipped with a note" "warning: .*autorun.inf: not a driver INF .*skipped" \
  "$DRVSIGN" catalog --driver "$ci" --os 10_X64
check "... and no catalog names it" lacks '[Aa][Uu][Tt][Oo][Rr][Uu][Nn]' $CATCHECK dump "$ci/kmdfdemo.cat"
rm "$ci/extension.inf"
check_error "CopyINF of a missing companion: exits 1, saying so at the CopyINF line" 1 "kmdf.inf:3[0-9]: CopyINF names extension.inf, which is not in the package" \
  "$DRVSIGN" catalog --quiet --driver "$ci" --os 10_X64
only="$WORK/only-autorun"
mkdir -p "$only"
cp "$ci/autorun.inf" "$only/"
check_error "a directory with only a non-driver INF: exits 1, saying why" 1 "no driver INF in the root of the directory \(1 INF file skipped" \
  "$DRVSIGN" catalog --quiet --driver "$only" --os 10_X64

}

# ---- hostile INFs (issue #12 items 3 and 9) ----
# generated INFs: a Needs chain of N links, or N CopyFiles entries SourceDisksFiles lacks
hostile() { # chain|missing N OUT.inf
  $PY - "$@" <<'PY'
import os, sys
kind, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
name = os.path.splitext(os.path.basename(path))[0]
with open(path, "w") as f:
    f.write('[Version]\nSignature="$Windows NT$"\nClass=System\nClassGuid={4d36e97d-e325-11ce-bfc1-08002be10318}\n'
            f'Provider=t\nCatalogFile={name}.cat\nDriverVer=01/15/2024,1.0.0.0\n'
            '[SourceDisksNames]\n1=d\n[SourceDisksFiles]\n')
    listed = ["end.sys"] if kind == "chain" else [f"listed{i}.sys" for i in range(n)]
    f.write("".join(f"{x}=1\n" for x in listed))
    f.write(f'[Manufacturer]\nt=M,NTamd64\n[M.NTamd64]\nd=I,root\\{name}\n[I.NT]\n')
    if kind == "chain":  # each link also names the first, so the walk meets visited sections
        f.write("Needs=N1\n" + "".join(f"[N{i}]\nNeeds=N{i + 1},N1\n" for i in range(1, n)))
        f.write(f"[N{n}]\nCopyFiles=@end.sys\n")
    else:
        f.write("CopyFiles=Files\n[Files]\n" + "".join(f"missing{i}.sys\n" for i in range(n)))
PY
}
# a 100k-link Needs chain: walked without recursion (it used to overflow the stack)
behaviour_long_needs_chain() {
local chain="$WORK/chain"
mkdir -p "$chain"
cp "$DRIVERS/toaster.sys" "$chain/end.sys"
hostile chain 100000 "$chain/chain.inf"
check "a 100000-link Needs chain catalogues" "$DRVSIGN" catalog --quiet --driver "$chain" --os 10_X64
check "... reaching the file at its end (catcheck)" $CATCHECK check "$chain/chain.cat" "$chain/chain.inf" "$chain/end.sys"
check "... and --no-catalog too" "$DRVSIGN" catalog --quiet --no-catalog --driver "$chain" --os 10_X64
}
# 20000 CopyFiles entries missing from SourceDisksFiles: one line each (hash lookups, no
# quadratic scans), exit 1
behaviour_many_unlisted_copyfiles() {
local miss="$WORK/missing" rc
mkdir -p "$miss"
hostile missing 20000 "$miss/miss.inf"
"$DRVSIGN" catalog --quiet --driver "$miss" --os 10_X64 >"$WORK/miss.out" 2>&1
rc=$?
check "20000 unlisted CopyFiles entries: exits 1" test $rc -eq 1
check "... with one error line each" test "$(grep -c 'does not list it (22.9.10)' "$WORK/miss.out")" -eq 20000
}
# a 30 MB line of commas: one clear error, memory far below the 2.8 GB it once took
behaviour_comma_line() {
local commas="$WORK/commas"
mkdir -p "$commas"
{ printf '[Version]\nSignature="$Windows NT$"\nCatalogFile=c.cat\nDriverVer=01/15/2024,1.0.0.0\n[Strings]\nk='; head -c 30000000 /dev/zero | tr '\0' ','; printf '\n'; } >"$commas/c.inf"
check_error "a 30 MB line of commas: one clear error" 1 "c.inf:6: line has more than 65536 comma-separated fields" \
  "$DRVSIGN" catalog --quiet --driver "$commas" --os 10_X64
check "... exit 1, and at most 1 GiB of memory (RSS)" $PY - "$DRVSIGN" "$commas" <<'PY'
import resource, subprocess, sys
rc = subprocess.run([sys.argv[1], "catalog", "--quiet", "--driver", sys.argv[2], "--os", "10_X64"],
                    stderr=subprocess.DEVNULL).returncode
rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"exit {rc}, max RSS {rss_kib // 1024} MiB")
sys.exit(0 if rc == 1 and rss_kib < 1024 * 1024 else 1)
PY
}

run_behaviours "$@"
