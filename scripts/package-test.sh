#!/bin/bash
# package-test.sh - build the Debian packages and the RPM and test them on
# this machine (Debian 12, as root).  Slow (a full build per package
# format), so not part of scripts/test.sh; see README.md.
#
#  1. dpkg-buildpackage -us -uc -b in a copy of the checkout, lintian on it
#  2. install both .debs, dmf-worker --check-config on the installed
#     configuration, systemd-analyze verify on the installed unit
#  3. the SDK story: build sdk/examples/hello against the installed
#     dmf-worker-dev alone (pkg-config), install it into its plugindir, have
#     the installed daemon run it by dmf.worker.type; a plugin built for a
#     newer minor or another major is refused with the loader's message
#  4. purge both packages: nothing of them left on the machine
#  5. rpmbuild -bb packaging/rpm/dmf-worker.spec from make dist, rpmlint
# Prints TAP; the last line is "N passed, N failed".  --no-rpm skips 5,
# --keep leaves the work directory.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rpm=1 keep=0
for a in "$@"; do
	case $a in
	--no-rpm) rpm=0 ;;
	--keep) keep=1 ;;
	*) echo "usage: $0 [--no-rpm] [--keep]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "package-test: run as root (it installs and purges packages)"; exit 2; }
export DEBIAN_FRONTEND=noninteractive
need=(debhelper lintian rpm rpmlint groff)
miss=()
for p in "${need[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || miss+=("$p"); done
[ ${#miss[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${miss[@]}" > /tmp/dmf-pkg-apt.log 2>&1 ||
	{ tail -20 /tmp/dmf-pkg-apt.log; exit 1; }
. "$top/tests/lib/tap.sh"
work=$(mktemp -d /tmp/dmf-package-test.XXXXXX)
cleanup() {
	dpkg -s dmf-worker > /dev/null 2>&1 && apt-get purge -y -qq dmf-worker dmf-worker-dev > /dev/null 2>&1
	[ "$keep" -eq 1 ] && echo "# kept $work" || rm -rf "$work"
}
trap cleanup EXIT
t0=$(date +%s)
step() { echo "# $(($(date +%s) - t0)) s: $*"; }

# a copy of the checkout (committed and uncommitted files, no build trees)
# (two: dpkg-buildpackage configures in its tree, make dist wants a clean one)
for d in deb src; do
	mkdir "$work/$d"
	(cd "$top" && git ls-files -co --exclude-standard | grep -v '^_build/' | tar -cf - -T -) | tar -xf - -C "$work/$d"
done

# 1. Debian packages
step "dpkg-buildpackage"
(cd "$work/deb" && dpkg-buildpackage -us -uc -b -j2) > "$work/deb-build.log" 2>&1
ok $? "dpkg-buildpackage -us -uc -b" || tail -30 "$work/deb-build.log" | sed 's/^/#   /'
step "built"
debs=$(ls "$work"/dmf-worker_*.deb "$work"/dmf-worker-dev_*.deb 2>/dev/null)
is "$(echo "$debs" | grep -c '\.deb$')" 2 "two packages: dmf-worker, dmf-worker-dev"
changes=$(ls "$work"/*.changes 2>/dev/null | head -1)
lint=$(lintian --fail-on error,warning --tag-display-limit 0 "$changes" 2>&1)
ok $? "lintian: no errors, no warnings (overrides explained in debian/)"
echo "$lint" | sed 's/^/#   lintian: /'
for d in $debs; do echo "# $(basename "$d"): $(dpkg-deb -c "$d" | grep -vc '/$') files"; done

# 2. install, check the configuration, verify the unit
apt-get install -y -qq $debs > "$work/install.log" 2>&1
ok $? "the packages install" || tail -20 "$work/install.log" | sed 's/^/#   /'
state=$(systemctl is-enabled dmf-worker 2>/dev/null || true)
[ "$state" != enabled ]; ok $? "the service is not enabled on installation (${state:-unknown})"
conf=/etc/dmf-worker/dmf-worker.yml
is "$(stat -c %a "$conf" 2>/dev/null)" 600 "$conf is 0600"
out=$(dmf-worker --check-config 2>&1)
ok $? "dmf-worker --check-config on the installed $conf (the default path)"
echo "$out" | sed 's/^/#   /'
out=$(systemd-analyze verify /lib/systemd/system/dmf-worker.service 2>&1)
ok $? "systemd-analyze verify on the installed unit"
[ -n "$out" ] && echo "$out" | sed 's/^/#   /'
for m in dmf-worker.8 dmfctl.8 dmf-worker.yml.5 dmf-worker-gen-certs.8 dmf-plugin.7; do
	[ -n "$(man -w "${m%.*}" 2>/dev/null)" ] || { ok 1 "man page $m installed"; continue; }
done
ok 0 "the man pages are installed"

# 3. the SDK: the example against the installed dmf-worker-dev alone
plugindir=$(pkg-config --variable=plugindir dmf-plugin)
ok $? "pkg-config --variable=plugindir dmf-plugin: $plugindir"
ex=/usr/share/doc/dmf-worker-dev/examples/hello
mkdir "$work/hello" && cp "$ex"/* "$work/hello/" 2>/dev/null
make -s -C "$work/hello" > "$work/hello.log" 2>&1
ok $? "sdk example built from $ex with pkg-config alone" || sed 's/^/#   /' "$work/hello.log"
install -m 0755 "$work/hello/hello.so" "$plugindir/hello.so"
cat > "$work/hello.yml" <<YML
dmf:
  worker:
    type: hello
    state:
      type: config
    poller:
      type: simulator
      simulator:
        limit: 3
  hello:
    greeting: hello from the package
YML
out=$(timeout 60 dmf-worker -c "$work/hello.yml" 2>&1)
is "$(echo "$out" | grep -c 'job SUCCESS')" 3 "the installed daemon runs the plugin from $plugindir by dmf.worker.type"
gate=$(dirname "$plugindir")/dmf-exec-gate
[ -x "$gate" ] && echo "$out" | grep -qF "commands start through $gate"
ok $? "the installed daemon starts commands through the packaged $gate"
echo "$out" | grep -q 'hello from the package' || echo "$out" | tail -5 | sed 's/^/#   /'
# built against a newer minor, another major: refused with the loader's message
for what in minor major; do
	mkdir -p "$work/$what/dmf"
	cp /usr/include/dmf/*.h "$work/$what/dmf/"
	if [ $what = minor ]; then
		sed -i 's/^#define DMF_ABI_MINOR \([0-9]*\)/echo "#define DMF_ABI_MINOR $((\1 + 1))"/e' "$work/$what/dmf/plugin.h"
	else
		sed -i 's/^#define DMF_ABI_MAJOR \([0-9]*\)/echo "#define DMF_ABI_MAJOR $((\1 + 1))"/e' "$work/$what/dmf/plugin.h"
	fi
	cc -std=c99 -fPIC -fvisibility=hidden -I"$work/$what" -shared -o "$work/$what/hello.so" "$work/hello/hello.c" 2> "$work/$what.log"
	install -m 0755 "$work/$what/hello.so" "$plugindir/hello.so"
	out=$(timeout 60 dmf-worker -c "$work/hello.yml" 2>&1)
	rc=$?
	[ $rc -ne 0 ] && echo "$out" | grep -qE "plugin .*hello.so refused: .*(ABI major|newer ABI minor|dmf_plugin_v)"
	ok $? "a plugin built for another ABI $what is refused"
	echo "$out" | grep -m1 refused | sed 's/^/#   /'
done
rm -f "$plugindir/hello.so"

# 4. purge: nothing left
apt-get purge -y -qq dmf-worker dmf-worker-dev > "$work/purge.log" 2>&1
ok $? "the packages purge"
left=$(ls -d /etc/dmf-worker /usr/lib/*/dmf-worker /usr/include/dmf /usr/share/dmf-worker \
	/usr/share/doc/dmf-worker /usr/share/doc/dmf-worker-dev /var/log/dmf-worker \
	/lib/systemd/system/dmf-worker.service /etc/systemd/system/multi-user.target.wants/dmf-worker.service \
	/usr/sbin/dmf-worker /usr/bin/dmfctl /usr/sbin/dmfctl 2>/dev/null)
is "$left" "" "nothing of the packages is left after purge"
dpkg -l 'dmf-worker*' 2>/dev/null | grep -q '^[a-z][a-z] ' && dpkg -l 'dmf-worker*' | grep -E '^(ii|rc)' | sed 's/^/#   /'
step "debian done"

# 5. RPM
if [ "$rpm" -eq 1 ]; then
	mkdir "$work/dist" "$work/rpm"
	(cd "$work/src" && ./autogen.sh && cd "$work/dist" && "$work/src/configure" -q && make -s dist) > "$work/dist.log" 2>&1
	tarball=$(ls "$work"/dist/dmf-worker-*.tar.gz 2>/dev/null | head -1)
	[ -n "$tarball" ]; ok $? "make dist: ${tarball##*/}" || tail -20 "$work/dist.log" | sed 's/^/#   /'
	mkdir -p "$work/rpm/SOURCES" && cp "$tarball" "$work/rpm/SOURCES/"
	step "rpmbuild"
	# --nodeps: Debian's rpm has an empty package database; the
	# BuildRequires are for RHEL 8/9 (the Debian -dev packages are installed).
	rpmbuild -bb --nodeps --define "_topdir $work/rpm" "$work/src/packaging/rpm/dmf-worker.spec" > "$work/rpm-build.log" 2>&1
	ok $? "rpmbuild -bb packaging/rpm/dmf-worker.spec" || tail -30 "$work/rpm-build.log" | sed 's/^/#   /'
	rpms=$(find "$work/rpm/RPMS" -name '*.rpm' 2>/dev/null)
	for r in $rpms; do echo "# ${r##*/}: $(rpm -qlp "$r" 2>/dev/null | wc -l) files"; done
	lint=$(rpmlint -r "$work/src/packaging/rpm/rpmlintrc" $rpms "$work/src/packaging/rpm/dmf-worker.spec" 2>&1)
	echo "$lint" | sed 's/^/#   rpmlint: /'
	echo "$lint" | grep -qE '[0-9]+ packages and [0-9]+ specfiles checked; 0 errors'
	ok $? "rpmlint: no errors"
	step "rpm done"
fi
echo "1..$tap_n"
echo "$((tap_n - tap_failed)) passed, $tap_failed failed"
[ "$tap_failed" -eq 0 ]
