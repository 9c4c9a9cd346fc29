# Shared by the benchmarks: tools, a built drvsign, and the GPU-driver-sized test package.
# Source it with root, build set; it sets work, pkg and bytes.

bench_setup() {
  bash "$root/scripts/deps.sh" test
  command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
  if [ ! -x "$build/drvsign" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDRVSIGN_BUILD_TESTS=OFF >/dev/null
    cmake --build "$build" >/dev/null
  fi
  work=${BENCH_WORK:-$(mktemp -d)}
  trap 'rm -rf "$work"' EXIT
}

# A GPU-driver-sized package in $work/pkg: $1 files, about $2 MB. 3 in 4 files are PE images (a
# real image plus incompressible overlay), the rest data; sizes vary from a few KB to about 4x
# the mean. The INF copies every file.
make_package() {
  local files=$1 total_mb=$2 mean_kb i kb f
  pkg=$work/pkg
  mkdir -p "$pkg/amd64"
  bash "$root/tests/drivers/build.sh" "$root/tests/drivers" "$work/drivers" >/dev/null
  mean_kb=$((total_mb * 1024 / files))
  {
    printf '[Version]\nSignature="$WINDOWS NT$"\nClass=Display\nClassGuid={4d36e968-e325-11ce-bfc1-08002be10318}\n'
    printf 'Provider=bench\nDriverVer=01/01/2024,1.0.0.0\nCatalogFile=bench.cat\n'
    printf '[SourceDisksNames]\n1=disk,,,\\amd64\n[SourceDisksFiles]\n'
    for i in $(seq "$files"); do printf 'file%03d.%s=1\n' "$i" "$([ $((i % 4)) -eq 0 ] && echo bin || echo dll)"; done
    printf '[Manufacturer]\nBench=Models,NTamd64\n[Models.NTamd64]\nGPU=Install,pci\\ven_1234\n'
    printf '[Install.NTamd64]\nCopyFiles=Files\n[Files]\n'
    for i in $(seq "$files"); do printf 'file%03d.%s\n' "$i" "$([ $((i % 4)) -eq 0 ] && echo bin || echo dll)"; done
  } >"$pkg/bench.inf"
  for i in $(seq "$files"); do
    kb=$(( (i * 7919 % (mean_kb * 2)) + 4 ))
    if [ $((i % 4)) -eq 0 ]; then
      head -c $((kb * 1024)) /dev/urandom >"$pkg/amd64/$(printf 'file%03d.bin' "$i")"
    else
      f=$pkg/amd64/$(printf 'file%03d.dll' "$i")
      cp "$work/drivers/helper.dll" "$f"
      head -c $((kb * 1024)) /dev/urandom >>"$f"
    fi
  done
  bytes=$(du -cb "$pkg"/amd64/* | tail -1 | cut -f1)
  cat "$pkg"/amd64/* >/dev/null # warm the page cache for every tool alike
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
