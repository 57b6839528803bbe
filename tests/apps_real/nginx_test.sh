#!/usr/bin/env bash
# nginx on vtas (master + 2 workers, LD_PRELOAD) serving files; curl (SHA-256) and wrk from
# the Linux peer.   nginx_test.sh BUILD_DIR
set -u
export VTAS_BUILD_DIR=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/vtas_env.sh"
source "$here/check.sh"
command -v nginx >/dev/null || { echo "nginx missing: apt-get install nginx"; exit 1; }
trap vtas_env_down EXIT
vtas_env_up n || exit 1
D=$VTAS_ENV_DIR
port=8081
mkdir -p "$D/www" "$D/nginx"
head -c 5000000 /dev/urandom > "$D/www/big.bin"
head -c 1000 /dev/urandom > "$D/www/small.bin"
# Workers run as root: the attach socket is 0600 for the service's user (see README).
cat > "$D/nginx.conf" <<EOC
user root;
worker_processes 2;
daemon off;
pid $D/nginx.pid;
error_log $D/nginx/error.log;
events { worker_connections 512; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $D/nginx; proxy_temp_path $D/nginx; fastcgi_temp_path $D/nginx;
  uwsgi_temp_path $D/nginx; scgi_temp_path $D/nginx;
  server { listen $port; root $D/www; }
}
EOC
VTAS_SOCKETS_DEBUG=1 bg_vtas nginx nginx -c "$D/nginx.conf"
wait_port_vtas $port || { cat "$D/nginx.out" "$D/nginx/error.log"; exit 1; }
# Ready when a request is answered (workers open their listeners after the master's fork).
for _ in $(seq 1 100); do
  in_peer timeout 2 curl -sf -o /dev/null "http://$VTAS_IP:$port/small.bin" && break
  sleep 0.1
done

for f in big.bin small.bin; do
  in_peer timeout 30 curl -sS -o "$D/got.$f" "http://$VTAS_IP:$port/$f"
  check_eq "curl $f: SHA-256 equal" "$(sha256sum < "$D/www/$f" | cut -d' ' -f1)" \
    "$(sha256sum < "$D/got.$f" | cut -d' ' -f1)"
done
check_eq "missing file: 404" 404 \
  "$(in_peer timeout 10 curl -s -o /dev/null -w '%{http_code}' "http://$VTAS_IP:$port/nope")"

for f in small.bin big.bin; do
  out=$(in_peer timeout 60 wrk -t1 -c16 -d3s "http://$VTAS_IP:$port/$f" 2>&1)
  echo "$out" | grep -E "Requests/sec|Transfer/sec|errors|Non-2xx" | sed 's/^/      /'
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  check "wrk $f: requests served" positive "${rps:-0}"
  check "wrk $f: no errors" bash -c "! grep -qE 'Socket errors|Non-2xx' <<< \"\$1\"" _ "$out"
done
check "workers ran on vtas" test "$(cat "$D/nginx.out" "$D/nginx/error.log" | grep -c 'listener on port .* reopened')" -ge 1
finish
