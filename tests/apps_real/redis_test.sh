#!/usr/bin/env bash
# redis-server on vtas (LD_PRELOAD), redis-cli and redis-benchmark on the Linux peer.
#   redis_test.sh BUILD_DIR
set -u
export VTAS_BUILD_DIR=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/vtas_env.sh"
source "$here/check.sh"
command -v redis-server >/dev/null || { echo "redis-server missing: apt-get install redis-server redis-tools"; exit 1; }
trap vtas_env_down EXIT
vtas_env_up r || exit 1
port=6390
VTAS_SOCKETS_DEBUG=1 bg_vtas redis redis-server --port $port --save "" --appendonly no --protected-mode no \
  --dir "$VTAS_ENV_DIR"
wait_port_vtas $port || { cat "$VTAS_ENV_DIR/redis.out"; exit 1; }
cli() { in_peer timeout 20 redis-cli -h "$VTAS_IP" -p $port "$@"; }

check_eq "PING" PONG "$(cli ping)"
check_eq "SET" OK "$(cli set greeting 'hello vtas')"
check_eq "GET" "hello vtas" "$(cli get greeting)"
cli del counter >/dev/null
for _ in 1 2 3; do cli incr counter >/dev/null; done
check_eq "INCR x3" 3 "$(cli get counter)"
head -c 200000 /dev/urandom | base64 -w0 > "$VTAS_ENV_DIR/big"
in_peer timeout 20 redis-cli -h "$VTAS_IP" -p $port -x set big < "$VTAS_ENV_DIR/big" >/dev/null
check_eq "200 kB value round trip (sha256)" \
  "$(sha256sum < "$VTAS_ENV_DIR/big" | cut -d' ' -f1)" \
  "$(cli --raw get big | head -c -1 | sha256sum | cut -d' ' -f1)"

# redis-benchmark: GET/SET, plain and pipelined; every request must succeed.
for pipeline in 1 16; do
  out=$(in_peer timeout 120 redis-benchmark -h "$VTAS_IP" -p $port -t set,get -n 20000 -c 20 \
        -P $pipeline -q 2>&1 | tr '\r' '\n' | grep "requests per second")
  echo "$out" | sed 's/^/      /'
  set_rps=$(echo "$out" | awk '/^SET:/ {print $2}')
  get_rps=$(echo "$out" | awk '/^GET:/ {print $2}')
  check "redis-benchmark SET -P $pipeline completed" positive "${set_rps:-0}"
  check "redis-benchmark GET -P $pipeline completed" positive "${get_rps:-0}"
done
check_eq "benchmark keys written" 1 "$(cli exists key:__rand_int__)"
check "server still answers" test "$(cli ping)" = PONG
# The listener also listens in the kernel: a client on this host reaches it over loopback.
check_eq "loopback client (kernel side of the listener)" PONG \
  "$(timeout 20 redis-cli -h 127.0.0.1 -p $port ping)"
check "the server ran on vtas" grep -q "attached to the vtas service" "$VTAS_ENV_DIR/redis.out"
finish
