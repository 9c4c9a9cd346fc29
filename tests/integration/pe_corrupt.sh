#!/usr/bin/env bash
# Corrupt inputs: a clear one-line error naming the file, exit 1, the input untouched,
# and nothing left behind.
. "$(dirname "$0")/../lib.sh"

src="$DRIVERS/toaster.sys"
lfanew=$(pe_field "$src" "pe.DOS_HEADER.e_lfanew")
opt=$((lfanew + 24))
rva_count=$(pe_field "$src" "pe.OPTIONAL_HEADER.get_file_offset() + (108 if pe.OPTIONAL_HEADER.Magic == 0x20b else 92)")

make_case() { # name: writes $WORK/cases/<name>.sys
  local f="$WORK/cases/$1.sys"
  mkdir -p "$WORK/cases"
  cp "$src" "$f"
  case $1 in
    truncated-headers) head -c 100 "$src" >"$f" ;;
    truncated) head -c 3000 "$src" >"$f" ;;
    empty) : >"$f" ;;
    lfanew-outside) put_u32 "$f" 60 0x7fffff00 ;;
    lfanew-wrong) put_u32 "$f" 60 64 ;;
    section-past-end) put_u32 "$f" $(pe_field "$src" "pe.sections[1].get_file_offset() + 16") 0x100000 ;;
    rva-count) put_u32 "$f" "$rva_count" 4 ;;
    bad-magic) put_u16 "$f" "$opt" 0x999 ;;
    cert-not-at-end)
      "$DRVSIGN" sign "${LEAF[@]}" "$f" >/dev/null
      printf 'trailing data after the signature' >>"$f" ;;
    cert-outside)
      "$DRVSIGN" sign "${LEAF[@]}" "$f" >/dev/null
      put_u32 "$f" $(($(pe_field "$src" "pe.OPTIONAL_HEADER.get_file_offset() + (144 if pe.OPTIONAL_HEADER.Magic == 0x20b else 128)") + 4)) 0x7fffffff ;;
    garbage-signature)
      "$DRVSIGN" sign "${LEAF[@]}" "$f" >/dev/null
      sec=$(pe_field "$f" "pe.OPTIONAL_HEADER.DATA_DIRECTORY[4].VirtualAddress")
      $PY -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(int(sys.argv[2])+8); f.write(b"\x30\x82\xff\xff" + b"junk"*8)' "$f" "$sec" ;;
    not-pe) printf 'this is not a PE file at all\n' >"$f" ;;
  esac
}

declare -A expect=(
  [truncated-headers]="e_lfanew .* points outside the file"
  [truncated]="points past the end of the file|truncated"
  [empty]="not a PE file|unsupported file type"
  [lfanew-outside]="e_lfanew .* points outside the file"
  [lfanew-wrong]="does not point at a PE signature"
  [section-past-end]="section 2 .* points past the end of the file"
  [rva-count]="NumberOfRvaAndSizes is 4"
  [bad-magic]="unknown optional header magic"
  [cert-not-at-end]="certificate table is not at the end of the file"
  [cert-outside]="certificate table .* lies outside the file"
  [not-pe]="unsupported file type"
)

corrupt() { # name: signing and verifying the case are refused, the input untouched
  local name=$1 f before rc
  make_case "$name"
  f="$WORK/cases/$name.sys"
  before=$(file_sum "$f")
  "$DRVSIGN" sign "${LEAF[@]}" "$f" >"$WORK/out" 2>"$WORK/err"
  rc=$?
  check "$name: sign exits 1" test "$rc" -eq 1
  check "$name: one clear error line naming the file" bash -c "
    cat '$WORK/err'; grep -Eq '^drvsign: .*$name\\.sys: .*(${expect[$name]})' '$WORK/err' && [ \$(wc -l <'$WORK/err') -eq 1 ]"
  check "$name: input untouched" test "$before" = "$(file_sum "$f")"
  check "$name: no temp file left" lacks '\.ds' ls -a "$WORK/cases"
  check_exit "$name: verify exits 1" 1 ds_verify "$f"
}
behaviour_truncated_headers() { corrupt truncated-headers; }
behaviour_truncated() { corrupt truncated; }
behaviour_empty() { corrupt empty; }
behaviour_lfanew_outside() { corrupt lfanew-outside; }
behaviour_lfanew_wrong() { corrupt lfanew-wrong; }
behaviour_section_past_end() { corrupt section-past-end; }
behaviour_rva_count() { corrupt rva-count; }
behaviour_bad_magic() { corrupt bad-magic; }
behaviour_cert_not_at_end() { corrupt cert-not-at-end; }
behaviour_cert_outside() { corrupt cert-outside; }
behaviour_not_pe() { corrupt not-pe; }
# A garbage signature fails verification; signing replaces it with a good one.
behaviour_garbage_signature() {
local f
make_case garbage-signature
f="$WORK/cases/garbage-signature.sys"
check_error "garbage-signature: verify exits 1, naming the problem" 1 \
  "garbage-signature.sys: the signature is not a valid Authenticode PKCS#7" ds_verify "$f"
check "garbage-signature: signing replaces it" "$DRVSIGN" sign "${LEAF[@]}" "$f"
check "garbage-signature: the result verifies with osslsigncode" oss_verify "$f"
}

run_behaviours "$@"
