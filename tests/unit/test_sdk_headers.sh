#!/bin/bash
# test_sdk_headers.sh - each installed SDK header compiles on its own as
# strict C99 and as C++, with warnings as errors.
set -u
src=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$src/tests/lib/tap.sh"
tmp=$(mktemp -d /tmp/dmf-test-sdk.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cc=${CC:-cc}
cxx=${CXX:-c++}
for h in "$src"/sdk/include/dmf/*.h; do
	name=dmf/$(basename "$h")
	printf '#include <%s>\nint dmf_test_unit;\n' "$name" > "$tmp/t.c"
	out=$($cc -std=c99 -pedantic -Wall -Wextra -Werror -I"$src/sdk/include" -c "$tmp/t.c" -o "$tmp/t.o" 2>&1)
	ok $? "$name compiles alone as C99 -pedantic -Werror"
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	cp "$tmp/t.c" "$tmp/t.cc"
	out=$($cxx -std=c++11 -pedantic -Wall -Wextra -Werror -I"$src/sdk/include" -c "$tmp/t.cc" -o "$tmp/t.o" 2>&1)
	ok $? "$name compiles alone as C++11 -pedantic -Werror"
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
done
# A plugin written in C++ with the macro.
cat > "$tmp/p.cc" <<'CC'
#include <dmf/plugin.h>
static int i(const struct dmf_host *, void **, const char **) { return 0; }
static int r(void *, struct dmf_job *) { return 0; }
static void f(void *) {}
DMF_PLUGIN_DEFINE("cxx", "1", i, r, f);
CC
out=$($cxx -std=c++11 -pedantic -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden -I"$src/sdk/include" "$tmp/p.cc" -o "$tmp/cxx.so" 2>&1)
ok $? "a C++ plugin using DMF_PLUGIN_DEFINE builds"
[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
is "$(nm -D --defined-only "$tmp/cxx.so" 2>/dev/null | grep -c ' dmf_plugin_v1$')" 1 "the C++ plugin exports dmf_plugin_v1 unmangled"
done_testing
