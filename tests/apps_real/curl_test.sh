#!/usr/bin/env bash
# curl on vtas (LD_PRELOAD) fetching from an HTTP server on the Linux peer.
#   curl_test.sh BUILD_DIR
set -u
export VTAS_BUILD_DIR=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/vtas_env.sh"
source "$here/check.sh"
trap vtas_env_down EXIT
vtas_env_up u || exit 1
D=$VTAS_ENV_DIR
mkdir -p "$D/www"
head -c 3000000 /dev/urandom > "$D/www/three_mb.bin"
head -c 100 /dev/urandom > "$D/www/tiny.bin"
bg_peer http python3 -m http.server 8080 --bind 0.0.0.0 --directory "$D/www"
wait_port_peer 8080 || exit 1
for f in three_mb.bin tiny.bin; do
  VTAS_SOCKETS_DEBUG=1 on_vtas timeout 30 curl -sS -o "$D/got.$f" "http://$PEER_IP:8080/$f" \
    2> "$D/curl.$f.err"
  check_eq "curl $f: SHA-256 equal" "$(sha256sum < "$D/www/$f" | cut -d' ' -f1)" \
    "$(sha256sum < "$D/got.$f" 2>/dev/null | cut -d' ' -f1)"
  check "curl $f went through vtas" grep -q "connecting through vtas" "$D/curl.$f.err"
done
# Several files over one connection (keep-alive), and a refused port.
on_vtas timeout 30 curl -sS -o "$D/k1" -o "$D/k2" "http://$PEER_IP:8080/tiny.bin" \
  "http://$PEER_IP:8080/three_mb.bin"
check_eq "keep-alive: second file" "$(sha256sum < "$D/www/three_mb.bin" | cut -d' ' -f1)" \
  "$(sha256sum < "$D/k2" 2>/dev/null | cut -d' ' -f1)"
on_vtas timeout 30 curl -s -o /dev/null "http://$PEER_IP:8099/"
check_eq "closed port: curl exit 7 (connection refused)" 7 "$?"
finish
