#!/usr/bin/env bash
# INF files that exercise the reader and Inf2Cat's rules: TargetOSVersion decorations (arch,
# version, build, product type), DDInstall decorations and companion sections, Include/Needs,
# DefaultInstall, @file, renamed copies, decorated SourceDisksFiles, continuation lines,
# strings, DIRIDs, UTF-16LE.
. "$(dirname "$0")/../lib.sh"
: "${TOASTPKG:?}"
CATCHECK="$PY $(dirname "$0")/../tools/catcheck.py"

# the decorated package, in this behaviour's WORK
decor_pkg() {
pkg="$WORK/decor"
[ -e "$pkg/decor.inf" ] && return 0
mkdir -p "$pkg/bin" "$pkg/bin64"
for f in new old x86 server ddi_amd64 ddi_nt coinst wdf hw extra listed renamed_src; do
  echo "contents of $f" >"$pkg/bin/$f.sys"
done
echo "amd64 build of arch.sys" >"$pkg/bin64/arch.sys"
echo "generic build of arch.sys" >"$pkg/bin/arch.sys"
cat >"$pkg/decor.inf" <<'INF'
; every kind of decoration, in one INF
[Version]
Signature   = "$WINDOWS NT$"
Class       = System
ClassGuid   = {4d36e97d-e325-11ce-bfc1-08002be10318}
Provider    = %Provider%
DriverVer   = 01/02/2023,10.0.1.2
CatalogFile = decor.cat

[SourceDisksNames]
1 = %Disk%,,,\bin
2 = %Disk%,,,bin64

[SourceDisksFiles]
new.sys = 1
old.sys = 1
x86.sys = 1
server.sys = 1
ddi_amd64.sys = 1
ddi_nt.sys = 1
coinst.sys = 1
wdf.sys = 1
hw.sys = 1
extra.sys = 1
listed.sys = 1
renamed_src.sys = 1
arch.sys = 1

[SourceDisksFiles.amd64]
arch.sys = 2

[Manufacturer]
%Mfg% = Models, NTamd64.10.0...16299, NTamd64.6.1, NTx86, NTamd64.10.0.3..17763

[Models.NTamd64.10.0...16299]
%Dev% = New_Install, root\new_device

[Models.NTamd64.6.1]
%Dev% = Old_Install, root\old_device

[Models.NTamd64.10.0.3..17763]
%Dev% = Server_Install, root\server_device

[Models.NTx86]
%Dev% = X86_Install, root\x86_device

[New_Install.NTamd64]
CopyFiles = New_Files, \
            @ddi_amd64.sys
Include   = machine.inf, ks.inf
Needs     = KS.Registration, Local_Extra

[New_Install.NT]
CopyFiles = @ddi_nt.sys

[New_Install.NTamd64.CoInstallers]
CopyFiles = @coinst.sys

[New_Install.NTamd64.Wdf]
CopyFiles = @wdf.sys

[New_Install.NTamd64.HW]
CopyFiles = @hw.sys

[New_Install.NTamd64.Services]
AddService = decor, 2, Decor_Service

[Decor_Service]
ServiceType   = 1
StartType     = 0   ; boot start
ErrorControl  = 1
ServiceBinary = %12%\new.sys

[Local_Extra]
CopyFiles = @extra.sys

[New_Files]
new.sys
arch.sys
renamed.sys, renamed_src.sys   ; installed under another name

[Old_Install]
CopyFiles = @old.sys

[Server_Install]
CopyFiles = @server.sys

[X86_Install]
CopyFiles = X86_Files

[X86_Files]
x86.sys
listed.sys

[Strings]
Provider = "drvsign"
Mfg      = "drvsign tests"
Dev      = "Decorated device"
Disk     = "Disk 1"
INF
}

files() { $CATCHECK dump "$pkg/decor.cat" | $PY -c 'import json,sys; print(" ".join(json.load(sys.stdin)["files"]))'; }
run() { rm -f "$pkg/decor.cat"; "$DRVSIGN" catalog --quiet --driver "$pkg" --os "$1" 2>"$WORK/err"; }

behaviour_rs3() {
decor_pkg
check "10_RS3_X64 (build 16299) catalogs" run 10_RS3_X64
check "... and warns about nothing (DIRIDs, continuation lines, strings)" test ! -s "$WORK/err"
check_output "build decoration 10.0...16299 applies to RS3: new.sys, not old.sys" \
  "^arch.sys coinst.sys ddi_amd64.sys decor.inf extra.sys hw.sys new.sys renamed_src.sys wdf.sys$" files
}
behaviour_x64_union() {
decor_pkg
check "10_X64 catalogs" run 10_X64
check_output "... the union over its builds: the 6.1 models (10240) and the 16299 ones, not the server's" \
  "^arch.sys coinst.sys ddi_amd64.sys decor.inf extra.sys hw.sys new.sys old.sys renamed_src.sys wdf.sys$" files
}
behaviour_win7() {
decor_pkg
check "7_X64 uses the 6.1 models" run 7_X64
check_output "... old.sys only" "^decor.inf old.sys$" files
}
behaviour_server_rs5() {
decor_pkg
check "ServerRS5_X64 picks the server (product type 3) models" run ServerRS5_X64
# a domain controller (product type 2) at 17763 does not take NTamd64.10.0.3, so it takes the 16299 models
check_output "... server.sys, and new.sys for domain controllers, not old.sys" \
  "^arch.sys coinst.sys ddi_amd64.sys decor.inf extra.sys hw.sys new.sys renamed_src.sys server.sys wdf.sys$" files
}
behaviour_rs5_client() {
decor_pkg
check "10_RS5_X64 (a client at build 17763) does not take the server models" run 10_RS5_X64
check_output "... new.sys" " new.sys " files
}
behaviour_x86() {
decor_pkg
check "10_X86 uses the x86 models" run 10_X86
check_output "... x86.sys and its list" "^decor.inf listed.sys x86.sys$" files
}
behaviour_two_targets() {
decor_pkg
check "two targets share one catalog: the union" run 10_RS3_X64,7_X64
check_output "... new and old" "new.sys old.sys" files
}
behaviour_hwids() {
decor_pkg
setup "catalog for 10_RS3_X64,7_X64" run 10_RS3_X64,7_X64 || return
check_output "HWIDs come only from the applicable models" "root.{1,2}new_device" $CATCHECK dump "$pkg/decor.cat"
check "... and not from the others" lacks x86_device $CATCHECK dump "$pkg/decor.cat"
}
behaviour_source_disks_arch() {
decor_pkg
setup "catalog for 10_RS3_X64" run 10_RS3_X64 || return
check "the amd64 arch.sys comes from SourceDisksFiles.amd64 (bin64)" $CATCHECK check "$pkg/decor.cat" "$pkg/bin64/arch.sys" "$pkg/decor.inf" "$pkg/bin/new.sys" "$pkg/bin/ddi_amd64.sys" "$pkg/bin/coinst.sys" "$pkg/bin/wdf.sys" "$pkg/bin/hw.sys" "$pkg/bin/extra.sys" "$pkg/bin/renamed_src.sys"

}

# a primitive driver: DefaultInstall, no [Manufacturer]
behaviour_primitive() {
local prim="$WORK/prim"
mkdir -p "$prim"
echo primitive >"$prim/prim.sys"
cat >"$prim/prim.inf" <<'INF'
[Version]
Signature = "$WINDOWS NT$"
Class = System
ClassGuid = {4d36e97d-e325-11ce-bfc1-08002be10318}
Provider = drvsign
DriverVer = 01/02/2023,1.0.0.0
CatalogFile.NTamd64 = prim.cat
PnpLockdown = 1
[SourceDisksNames]
1 = disk
[SourceDisksFiles]
prim.sys = 1
[DefaultInstall.NTamd64]
CopyFiles = @prim.sys
[DefaultInstall.NTamd64.Services]
AddService = prim,,Prim_Service
[Prim_Service]
ServiceType = 1
StartType = 3
ErrorControl = 1
ServiceBinary = %13%\prim.sys
INF
check "a primitive driver (DefaultInstall) catalogs" "$DRVSIGN" catalog --quiet --driver "$prim" --os 10_X64
check "... with its file" $CATCHECK check "$prim/prim.cat" "$prim/prim.inf" "$prim/prim.sys"

}

# UTF-16LE INF: the reader decodes it, the catalog hashes its raw bytes
behaviour_utf16() {
local u16="$WORK/utf16"
cp -r "$TOASTPKG" "$u16"
{ printf '\xff\xfe'; iconv -f UTF-8 -t UTF-16LE "$TOASTPKG/toastpkg.inf"; } >"$u16/toastpkg.inf"
check "a UTF-16LE INF catalogs" "$DRVSIGN" catalog --quiet --driver "$u16" --os 10_X64
check "... its member is the SHA-1 of the UTF-16 bytes" $CATCHECK check "$u16/tstamd64.cat" "$u16/toastpkg.inf" "$u16"/amd64/*
check "... and sha1sum agrees" bash -c "$CATCHECK dump '$u16/tstamd64.cat' | grep -qi \"\\\"\$(sha1sum '$u16/toastpkg.inf' | cut -c1-40)\\\"\""
}
# ANSI with a Windows-1252 character in a string
behaviour_ansi() {
local ansi="$WORK/ansi"
cp -r "$TOASTPKG" "$ansi"
sed -i 's/"drvsign Toasters"/"drvsign Toasters \xe9\x80"/' "$ansi/toastpkg.inf"
check "an ANSI (Windows-1252) INF catalogs" "$DRVSIGN" catalog --quiet --driver "$ansi" --os 10_X64
}
# a decoration with too many fields is an error, not a guess
behaviour_bad_decoration() {
local bad="$WORK/baddecor"
decor_pkg
cp -r "$pkg" "$bad"
rm -f "$bad/decor.cat"
sed -i 's/NTamd64.10.0.3..17763/NTamd64.10.0.3...17763/' "$bad/decor.inf"
check_error "a decoration with six fields is reported" 1 "decor.inf:33: 'NTamd64.10.0.3...17763' is not a TargetOSVersion decoration" \
  "$DRVSIGN" catalog --driver "$bad" --os 10_X64
}

run_behaviours "$@"
