#!/bin/bash
# test_install_layout.sh - make install DESTDIR= puts every file under
# DESTDIR in this build's layout, the installed daemon's compiled-in
# configuration path follows it, make uninstall leaves only directories;
# ./configure --with-layout=ox chooses the original product's paths.
set -uo pipefail
. "$top_srcdir/tests/lib/tap.sh"
tmp=$(mktemp -d /tmp/dmf-layout.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
b=$abs_top_builddir
lay() { make -s -C "$1" print-layout | sed -n "s/^$2=//p"; }
make -s -C "$b" install DESTDIR="$tmp/root" > "$tmp/install.log" 2>&1
ok $? "make install DESTDIR="
# every file and directory below one of the configured directories (or on
# the way to one)
dirs=$(for v in prefix sbindir bindir dmfconfdir plugindir helperdir certsdir logdir systemdsystemunitdir pkgdatadir mandir includedir libdir; do lay "$b" $v; done | grep . | sort -u)
outside=
while IFS= read -r f; do
	f=${f#"$tmp/root"}
	inside=0
	for d in $dirs; do
		case "$f/" in "$d"/* | "$d/") inside=1; break ;; esac
		case "$d/" in "$f"/*) inside=1; break ;; esac
	done
	[ $inside -eq 1 ] || outside="$outside $f"
done < <(find "$tmp/root" -mindepth 1)
is "$outside" "" "nothing installed outside the configured directories"
conf=$(lay "$b" dmfconfdir)/dmf-worker.yml
[ -f "$tmp/root$conf" ]; ok $? "configuration installed as $conf"
plugindir=$(lay "$b" plugindir)
[ -f "$tmp/root$plugindir/simulator.so" ]; ok $? "plugins installed in $plugindir"
gate=$(lay "$b" helperdir)/dmf-exec-gate
[ -x "$tmp/root$gate" ]; ok $? "the gate program commands start through installed as $gate"
n=$(strings "$tmp/root$(lay "$b" sbindir)/dmf-worker" | grep -cxF "$gate")
[ "$n" -gt 0 ]; ok $? "the installed daemon looks for it there"
help=$("$tmp/root$(lay "$b" sbindir)/dmf-worker" --help 2>&1)
like "$help" "default $conf" "the installed daemon's default configuration is $conf"
[ -d "$tmp/root$(lay "$b" certsdir)" ] && [ -d "$tmp/root$(lay "$b" logdir)" ]
ok $? "certificate and log directories made"
make -s -C "$b" uninstall DESTDIR="$tmp/root" > "$tmp/uninstall.log" 2>&1
ok $? "make uninstall"
left=$(find "$tmp/root" ! -type d)
is "$left" "" "make uninstall leaves only directories"

# the ox layout: configure only (the paths, not a second build); autoconf
# refuses a second build directory while the source tree is configured
if [ -f "$abs_top_srcdir/config.status" ]; then
	echo "ok $((tap_n + 1)) # SKIP ox layout: the source tree is configured in place"
	echo "1..$((tap_n + 1))"
	[ "$tap_failed" -eq 0 ]
	exit
fi
mkdir "$tmp/ox"
(cd "$tmp/ox" && "$abs_top_srcdir/configure" -q --with-layout=ox > "$tmp/ox.log" 2>&1)
ok $? "configure --with-layout=ox"
is "$(lay "$tmp/ox" dmfconfdir)" /opt/open-xchange/dmf/worker/etc "ox: configuration in /opt/open-xchange/dmf/worker/etc"
is "$(lay "$tmp/ox" sbindir)" /opt/open-xchange/sbin "ox: dmf-worker-gen-certs in /opt/open-xchange/sbin"
is "$(lay "$tmp/ox" certsdir)" /opt/open-xchange/dmf/certs "ox: certificates in /opt/open-xchange/dmf/certs"
is "$(lay "$tmp/ox" plugindir)" /opt/open-xchange/dmf/worker/lib/plugins "ox: plugins in /opt/open-xchange/dmf/worker/lib/plugins"
is "$(lay "$tmp/ox" logdir)" /var/log/dmf "ox: command logs in /var/log/dmf"
is "$(lay "$tmp/ox" helperdir)" /opt/open-xchange/dmf/worker/lib "ox: dmf-exec-gate in /opt/open-xchange/dmf/worker/lib"
unit=$(make -s -C "$tmp/ox" conf/dmf-worker.service > /dev/null 2>&1 && cat "$tmp/ox/conf/dmf-worker.service")
like "$unit" "-c /opt/open-xchange/dmf/worker/etc/dmf-worker.yml" "ox: the unit runs the daemon on the ox configuration"
if pkg-config --exists systemd; then
	is "$(lay "$tmp/ox" systemdsystemunitdir)" "$(pkg-config --variable=systemdsystemunitdir systemd)" "ox: the unit goes where systemd reads units"
fi
(cd "$tmp" && "$abs_top_srcdir/configure" -q --with-layout=bogus > "$tmp/bogus.log" 2>&1)
[ $? -ne 0 ] && grep -q "unknown layout 'bogus'" "$tmp/bogus.log"
ok $? "configure --with-layout=bogus is refused by name"
echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
