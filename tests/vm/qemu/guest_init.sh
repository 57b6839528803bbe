#!/bin/busybox sh
# /init of the test guest built by scripts/vm/build_guest.sh. Everything it reports goes to the
# console (QEMU's stdout) as "VTAS-VM ..." lines that tests/vm/qemu parses:
#   VTAS-VM init uptime=<s>              reached /init
#   VTAS-VM insmod <module> <args>        a module loaded with parameters (or its insmod error)
#   VTAS-VM proxy ready uptime=<s>        vtas-proxy-guest serves apps (else "proxy failed")
#   VTAS-VM runN: <line>                  output of vt_runN
#   VTAS-VM runN exit=<code> seconds=<s>  its exit status and duration
#   VTAS-VM done                          then power off
# Parameters (kernel command line): vt_proxy_args (commas for spaces) and vt_run1..vt_run9,
# each a command whose words are separated by commas ("vtas_ll_tool,connect,10.0.0.2,7000").
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run/vtas/vtas /tmp
echo "VTAS-VM init uptime=$(cut -d' ' -f1 /proc/uptime)"

for word in $(cat /proc/cmdline); do
  case "$word" in
    vt_*=*) export "$word" ;;
  esac
done

# A module's parameters, if any, are in /lib/modules/<name>.args (build_guest.sh --noiommu-vfio
# puts enable_unsafe_noiommu_mode=1 there for its vfio.ko).
for m in irqbypass vfio vfio_iommu_type1 vfio_virqfd vfio-pci-core vfio-pci; do
  args="$(cat /lib/modules/$m.args 2>/dev/null)"
  insmod /lib/modules/$m.ko $args 2>/tmp/insmod.err || echo "VTAS-VM insmod $m: $(cat /tmp/insmod.err)"
  [ -n "$args" ] && echo "VTAS-VM insmod $m $args"
done

finish() {
  if [ -f /tmp/proxy.log ]; then
    sed 's/^/VTAS-VM proxy: /' /tmp/proxy.log
  fi
  echo "VTAS-VM done"
  poweroff -f
}

# Readiness without polling: the proxy writes one byte to --ready-fd (a fifo); if it dies
# first, the fifo closes and head returns nothing.
mkfifo /tmp/ready
proxy_args="$(echo "${vt_proxy_args:-}" | tr ',' ' ')"
/bin/vtas-proxy-guest --ready-fd 3 $proxy_args >/tmp/proxy.log 2>&1 3>/tmp/ready &
if [ "$(head -c1 /tmp/ready)" != "r" ]; then
  echo "VTAS-VM proxy failed"
  finish
fi
echo "VTAS-VM proxy ready uptime=$(cut -d' ' -f1 /proc/uptime)"

for n in 1 2 3 4 5 6 7 8 9; do
  eval "cmd=\${vt_run$n:-}"
  [ -n "$cmd" ] || continue
  start="$(cut -d' ' -f1 /proc/uptime)"
  $(echo "$cmd" | tr ',' ' ') >/tmp/run$n.out 2>&1
  rc=$?
  end="$(cut -d' ' -f1 /proc/uptime)"
  sed "s/^/VTAS-VM run$n: /" /tmp/run$n.out
  echo "VTAS-VM run$n exit=$rc start=$start end=$end"
done
finish
