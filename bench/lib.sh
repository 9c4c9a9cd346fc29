# Shared by the benchmarks: tools, a built drvsign, the GPU-driver-sized test package, and the
# timing of pairs. Source it with root and build set; bench_setup sets work, runs and ncpu.
#
# Every comparison is a pair measured in the same run, alternately (A B A B ...), so that both
# sides see the same machine: the other work on it, the page cache, the CPU's clock. Each side
# runs BENCH_RUNS times (default 5, at least 5); we quote the median and the range (min-max)
# of its wall time, its peak RSS, and the ratio of the medians with the range of the per-round
# ratios. The load average before and after says how busy the machine was, and "others" how
# much CPU the rest of the machine used while the measured commands ran: the CPU time all
# cores spent busy (/proc/stat), less the command's own, plus the time the hypervisor took
# (steal). A SCHED_IDLE or niced job does not keep out of a benchmark where the kernel groups
# tasks by session (sched_autogroup_enabled=1): each group gets its share whatever its tasks'
# priorities, so the figure is worth reading.

bench_setup() {
  bash "$root/scripts/deps.sh" test
  command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
  if [ ! -x "$build/drvsign" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDRVSIGN_BUILD_TESTS=OFF >/dev/null
    cmake --build "$build" >/dev/null
  fi
  runs=${BENCH_RUNS:-5}
  if [ "$runs" -lt 5 ]; then
    echo "bench: BENCH_RUNS is $runs; medians need at least 5 runs" >&2
    exit 2
  fi
  ncpu=$(nproc)
  if [ "$(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null)" = 1 ]; then
    echo "bench: note: sched_autogroup_enabled is 1, so niced or SCHED_IDLE work in other sessions" \
         "competes with the benchmark as equals (read \"others\"; as root," \
         "echo 0 >/proc/sys/kernel/sched_autogroup_enabled makes them yield)"
  fi
  work=${BENCH_WORK:-$(mktemp -d)}
  mkdir -p "$work"
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

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
min_max() { sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%s-%s", lo, hi}'; }

# busy and stolen CPU seconds of the whole machine so far, from /proc/stat's first line (user
# nice system idle iowait irq softirq steal ...; in USER_HZ ticks)
machine_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {
    printf "%.2f %.2f\n", ($2 + $3 + $4 + $7 + $8) / hz, $9 / hz; exit }' /proc/stat
}

# Wall time of one command in seconds (microseconds from bash), its peak RSS in KB and its CPU
# seconds (user + system, children included) from GNU time, into the globals t, rss, cpu; and
# others: the CPU seconds the rest of the machine used meanwhile, stolen time included.
time_one() {
  local t0 t1 busy0 steal0 busy1 steal1
  read -r busy0 steal0 < <(machine_cpu)
  t0=$EPOCHREALTIME
  /usr/bin/time -f "%M %U %S" -o "$work/.time" "$@" >"$work/.out" 2>&1 ||
    { echo "bench: failed: $*" >&2; cat "$work/.out" >&2; exit 1; }
  t1=$EPOCHREALTIME
  read -r busy1 steal1 < <(machine_cpu)
  t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
  read -r rss u s <"$work/.time"
  cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
  # ticks are 10 ms, so small negative values are rounding, not work
  others=$(awk -v b0="$busy0" -v b1="$busy1" -v s0="$steal0" -v s1="$steal1" -v c="$cpu" \
    'BEGIN { o = b1 - b0 - c + s1 - s0; printf "%.2f", o < 0 ? 0 : o }')
}

# bench_pair TITLE LABEL_A SETUP_A LABEL_B SETUP_B
# SETUP_x is a shell function that prepares one run (untimed: fresh inputs, no stale outputs)
# and sets the array cmd to the command to time. Runs A B A B ..., with a sync before each
# timed run so that no writeback from the run before is pending. Prints the summary and sets
# ratio (median A / median B).
bench_pair() {
  local title=$1 la=$2 sa=$3 lb=$4 sb=$5 ta=() tb=() ra=0 rb=0 ca=() cb=() rounds=() load0 i
  local oa=() ob=()
  load0=$(cut -d' ' -f1 /proc/loadavg)
  for i in $(seq "$runs"); do
    "$sa"; sync; time_one "${cmd[@]}"; ta+=("$t"); ca+=("$cpu"); oa+=("$others"); [ "$rss" -gt "$ra" ] && ra=$rss
    "$sb"; sync; time_one "${cmd[@]}"; tb+=("$t"); cb+=("$cpu"); ob+=("$others"); [ "$rss" -gt "$rb" ] && rb=$rss
    rounds+=("$(awk -v a="${ta[-1]}" -v b="${tb[-1]}" 'BEGIN { printf "%.3f", a / b }')")
  done
  local ma mb
  ma=$(printf '%s\n' "${ta[@]}" | median)
  mb=$(printf '%s\n' "${tb[@]}" | median)
  ratio=$(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.2f", a / b }')
  echo "$title: $runs runs each, alternating (load average $load0 before, $(cut -d' ' -f1 /proc/loadavg) after; $ncpu cores)"
  printf '  %-28s median %7.3f s  (%s)  CPU %5s s  peak RSS %6d KB  others %s s\n' "$la" "$ma" \
    "$(printf '%s\n' "${ta[@]}" | min_max)" "$(printf '%s\n' "${ca[@]}" | median)" "$ra" \
    "$(printf '%s\n' "${oa[@]}" | median)"
  printf '  %-28s median %7.3f s  (%s)  CPU %5s s  peak RSS %6d KB  others %s s\n' "$lb" "$mb" \
    "$(printf '%s\n' "${tb[@]}" | min_max)" "$(printf '%s\n' "${cb[@]}" | median)" "$rb" \
    "$(printf '%s\n' "${ob[@]}" | median)"
  echo "  ratio $la / $lb: $ratio (per round $(printf '%s\n' "${rounds[@]}" | min_max))"
  rss_a=$ra
}
