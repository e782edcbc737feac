#!/bin/sh
# Serves HTTP on 8080 (what the healthcheck probes) and exits 0 at once on SIGTERM: as PID 1 a
# shell ignores TERM unless it traps it, and `sleep & wait` lets the trap run without delay.
trap 'kill "$httpd" 2>/dev/null; echo "test workload stopping"; exit 0' TERM INT
httpd -f -p 8080 -h /www &
httpd=$!
echo "test workload ready"
while :; do
  sleep 1 &
  wait $!
done
