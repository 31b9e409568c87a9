#!/bin/bash
# check-installed.sh PREFIX LIBDIR EXAMPLE-DIR DMF-WORKER
# Builds the example plugin out of tree against the installed SDK with
# pkg-config alone, then has the installed dmf-worker load and run it.
set -euo pipefail
prefix=$1 libdir=$2 example=$3 worker=$4
tmp=$(mktemp -d /tmp/dmf-sdk-example.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export PKG_CONFIG_PATH="$libdir/pkgconfig"
pkg-config --exists dmf-plugin || { echo "dmf-plugin.pc not installed in $libdir/pkgconfig"; exit 1; }
echo "SDK: $(pkg-config --modversion dmf-plugin), ABI $(pkg-config --variable=abi_major dmf-plugin).$(pkg-config --variable=abi_minor dmf-plugin), cflags $(pkg-config --cflags dmf-plugin)"
cp "$example/hello.c" "$example/Makefile" "$tmp/"
make -s -C "$tmp" hello.so
mkdir -m 0755 "$tmp/plugins"
install -m 0755 "$tmp/hello.so" "$tmp/plugins/hello.so"
cat > "$tmp/hello.yml" <<YML
dmf:
  worker:
    type: hello
    plugin-dir: $tmp/plugins
    state:
      type: config
    poller:
      type: simulator
      simulator:
        limit: 3
    jobs:
      max: 2
  hello:
    greeting: '"hello" from the installed SDK'
YML
out=$("$worker" -c "$tmp/hello.yml" 2>&1)
# the quotes in the greeting must be escaped in the details, else
# add_detail() refuses them and the jobs fail
echo "$out" | grep -q '"hello" from the installed SDK, sim-user-1' || { echo "$out"; echo "FAIL: the installed daemon did not run the example plugin"; exit 1; }
[ "$(echo "$out" | grep -c 'job SUCCESS')" -eq 3 ] || { echo "$out"; echo "FAIL: expected 3 successful jobs"; exit 1; }
echo "SDK example: built out of tree and run by the installed dmf-worker: ok"
