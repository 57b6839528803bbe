#!/usr/bin/env bash
# Real applications on Linux and on vtas, side by side in one run (a benchmark, not a test):
#   redis-benchmark (GET/SET, plain and pipelined): requests/s, p50, p99
#   nginx + wrk (1 kB file): requests/s
#   iperf3: Gbit/s
#   server CPU per request: CPU time of the server process (and of vtas's fast path)
# The clients run in the peer's network namespace. "Linux": the server runs on the kernel,
# reached over a second veth pair with kernel addresses; "vtas": the same server binary under
# LD_PRELOAD=libvtas_interpose.so, reached through vtas (net_af_packet on a veth pair).
# Prints a Markdown table with vtas/Linux ratios.
#
#   sudo bench/sockets_bench.sh BUILD_DIR [--quick]
#   (or: ninja -C BUILD_DIR sockets_bench)
set -u
export VTAS_BUILD_DIR=${1:?usage: sockets_bench.sh BUILD_DIR [--quick]}
QUICK=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tests/apps_real/vtas_env.sh"
for tool in redis-server redis-benchmark nginx wrk iperf3; do
  command -v $tool >/dev/null || { echo "missing $tool (apt-get install redis-server redis-tools nginx wrk iperf3)"; exit 1; }
done

REQUESTS=200000
SECONDS_RUN=5
[ "$QUICK" = --quick ] && { REQUESTS=30000; SECONDS_RUN=2; }

cleanup() {
  ip link del "${KERNEL_IF:-none}" 2>/dev/null
  vtas_env_down
}
trap cleanup EXIT
vtas_env_up b || exit 1
D=$VTAS_ENV_DIR
subnet=$(( 1 + $$ % 200 ))
LINUX_IP=10.79.$subnet.1
KERNEL_IF=vkb$(( $$ % 100000 ))
ip link add "$KERNEL_IF" type veth peer name "vkp$(( $$ % 100000 ))" || exit 1
ip link set "vkp$(( $$ % 100000 ))" netns "$PEER_NS"
ip addr add "$LINUX_IP/24" dev "$KERNEL_IF"
ip link set "$KERNEL_IF" up
in_peer ip addr add "10.79.$subnet.2/24" dev "vkp$(( $$ % 100000 ))"
in_peer ip link set "vkp$(( $$ % 100000 ))" up

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
fastpath_pid() { pgrep -f "fastpath" -P "$VTAS_PID" | head -1; }
TICK_US=$(( 1000000 / $(getconf CLK_TCK) ))
RESULTS=()
row() { RESULTS+=("$1|$2|$3"); }  # metric | linux | vtas

# ---- redis ---------------------------------------------------------------------------------
setsid redis-server --port 6391 --bind "$LINUX_IP" --save "" --appendonly no --protected-mode no \
  --dir "$D" > "$D/redis-linux.out" 2>&1 &
linux_redis=$!
VTAS_ENV_PIDS+=("$linux_redis")
bg_vtas redis-vtas redis-server --port 6390 --save "" --appendonly no --protected-mode no --dir "$D"
vtas_redis=$BG_PID
wait_port_vtas 6390 || exit 1
for _ in $(seq 1 50); do in_peer redis-cli -h "$LINUX_IP" -p 6391 ping >/dev/null 2>&1 && break; sleep 0.1; done

bench_redis() {  # where ip port pid pipeline -> "set_rps get_rps set_p50 set_p99 get_p50 get_p99 cpu_us_per_req"
  local ip=$2 port=$3 pid=$4 pipeline=$5
  local c0 c1 out
  c0=$(cpu_ticks "$pid")
  out=$(in_peer redis-benchmark -h "$ip" -p "$port" -t set,get -n $REQUESTS -c 50 -P "$pipeline" --csv 2>/dev/null)
  c1=$(cpu_ticks "$pid")
  echo "$out" | awk -F'","' -v cpu=$(( (c1 - c0) * TICK_US )) -v n=$((2 * REQUESTS)) '
    /^"SET"/ { set_rps=$2; set_p50=$5; set_p99=$7 }
    /^"GET"/ { get_rps=$2; get_p50=$5; get_p99=$7 }
    END { gsub(/"/, "", get_p99); gsub(/"/, "", set_p99);
          printf "%s %s %s %s %s %s %.2f\n", set_rps, get_rps, set_p50, set_p99, get_p50, get_p99, cpu / n }'
}
for pipeline in 1 16; do
  read -r l_set l_get l_sp50 l_sp99 l_gp50 l_gp99 l_cpu <<< "$(bench_redis linux "$LINUX_IP" 6391 $linux_redis $pipeline)"
  fp=$(fastpath_pid); fp0=$(cpu_ticks "${fp:-0}")
  read -r v_set v_get v_sp50 v_sp99 v_gp50 v_gp99 v_cpu <<< "$(bench_redis vtas "$VTAS_IP" 6390 $vtas_redis $pipeline)"
  fp1=$(cpu_ticks "${fp:-0}")
  fp_cpu=$(awk -v t=$(( (fp1 - fp0) * TICK_US )) -v n=$((2 * REQUESTS)) 'BEGIN { printf "%.2f", t / n }')
  row "redis SET -P $pipeline (req/s)" "$l_set" "$v_set"
  row "redis GET -P $pipeline (req/s)" "$l_get" "$v_get"
  row "redis SET -P $pipeline p50 / p99 (ms)" "$l_sp50 / $l_sp99" "$v_sp50 / $v_sp99"
  row "redis GET -P $pipeline p50 / p99 (ms)" "$l_gp50 / $l_gp99" "$v_gp50 / $v_gp99"
  row "redis -P $pipeline server CPU (us/req; vtas: + fast path)" "$l_cpu" "$v_cpu + $fp_cpu"
done

# ---- nginx + wrk ---------------------------------------------------------------------------
mkdir -p "$D/www" "$D/ngl" "$D/ngv"
head -c 1000 /dev/urandom > "$D/www/small.bin"
nginx_conf() {  # dir listen
  cat <<EOC
user root;
worker_processes 1;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $1; proxy_temp_path $1; fastcgi_temp_path $1; uwsgi_temp_path $1;
  scgi_temp_path $1;
  server { listen $2; root $D/www; }
}
EOC
}
nginx_conf "$D/ngl" "$LINUX_IP:8091" > "$D/ngl/nginx.conf"
nginx_conf "$D/ngv" "8081" > "$D/ngv/nginx.conf"
setsid nginx -c "$D/ngl/nginx.conf" > /dev/null 2>&1 &
VTAS_ENV_PIDS+=("$!")
bg_vtas nginx-vtas nginx -c "$D/ngv/nginx.conf"
for _ in $(seq 1 100); do
  in_peer curl -sf -o /dev/null "http://$VTAS_IP:8081/small.bin" &&
    in_peer curl -sf -o /dev/null "http://$LINUX_IP:8091/small.bin" && break
  sleep 0.1
done
wrk_rps() { in_peer wrk -t1 -c32 -d${SECONDS_RUN}s "$1" 2>/dev/null | awk '/Requests\/sec/ {print $2}'; }
row "nginx + wrk, 1 kB file (req/s)" "$(wrk_rps "http://$LINUX_IP:8091/small.bin")" \
  "$(wrk_rps "http://$VTAS_IP:8081/small.bin")"

# ---- iperf3 --------------------------------------------------------------------------------
setsid iperf3 -s -B "$LINUX_IP" -p 5211 > /dev/null 2>&1 &
VTAS_ENV_PIDS+=("$!")
bg_vtas iperf-vtas iperf3 -s -4 -p 5201
wait_port_vtas 5201 || exit 1
sleep 0.2
gbps() { in_peer iperf3 -c "$1" -p "$2" -t $SECONDS_RUN $3 -J 2>/dev/null | python3 -c \
  "import json,sys; print(round(json.load(sys.stdin)['end']['sum_received']['bits_per_second']/1e9, 2))" 2>/dev/null || echo 0; }
row "iperf3 client -> server (Gbit/s)" "$(gbps "$LINUX_IP" 5211 "")" "$(gbps "$VTAS_IP" 5201 "")"
row "iperf3 server -> client, -R (Gbit/s)" "$(gbps "$LINUX_IP" 5211 -R)" "$(gbps "$VTAS_IP" 5201 -R)"

# ---- table ---------------------------------------------------------------------------------
echo
echo "| metric | Linux | vtas | vtas / Linux |"
echo "|---|---:|---:|---:|"
for r in "${RESULTS[@]}"; do
  IFS='|' read -r metric linux vtas <<< "$r"
  ratio=$(awk -v a="$linux" -v b="$vtas" 'BEGIN { if (a ~ /\// || b ~ /[\/+]/ || a + 0 == 0) print "-"; else printf "%.2f", b / a }')
  echo "| $metric | $linux | $vtas | $ratio |"
done
echo
echo "2 cores shared by clients, servers and vtas's fast path; vtas runs on net_af_packet over a"
echo "veth pair, Linux over a veth pair: see reference/machine-baselines.md for the limits."
