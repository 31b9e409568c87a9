#!/bin/sh
# test_crypto_keytool.sh - storage keys in PKCS#12 keystores made by
# keytool (spec 2.2.9), and passwords wrapped by a Java scheduler
# (AES/GCM/NoPadding and AES/CBC/PKCS5Padding, tests/unit/KeytoolWrap.java)
# unwrapped by core/crypto/crypto.c.  Installs a JDK when keytool is missing
# (as root, Debian), else skips.  Prints TAP.
set -u

srcdir=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${abs_top_builddir:-$srcdir}
tool="$builddir/tests/unit/crypto_tool"
wrapper="$srcdir/tests/unit/KeytoolWrap.java"

if ! command -v keytool >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			openjdk-17-jdk-headless >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null 2>&1 &&
			  DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
				openjdk-17-jdk-headless >/dev/null 2>&1; }
	fi
fi
if ! command -v keytool >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
	echo "1..0 # SKIP keytool/java not available"
	exit 0
fi
if [ ! -x "$tool" ]; then
	echo "1..0 # SKIP $tool not built"
	exit 0
fi

tmp=$(mktemp -d /tmp/dmf-keytool-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { # check NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else
		notok "$1"; echo "#   got: '$2'"; echo "#   expected: '$3'"; fi
}
contains() { # contains NAME GOT NEEDLE
	case "$2" in *"$3"*) ok "$1" ;; *)
		notok "$1"; echo "#   '$2' does not contain '$3'" ;; esac
}

ks="$tmp/keystore.p12"
pass='store pw!'
genkey() {
	keytool -genseckey -alias "$1" -keyalg AES -keysize 256 \
		-storetype pkcs12 -storepass "$pass" -keystore "$ks" >/dev/null 2>&1
}
genkey key1 && genkey MyKey && ok "keytool made a keystore with two keys" ||
	notok "keytool -genseckey"

# the key keytool made is the key we read (Java reads it too)
set -- $(java "$wrapper" "$ks" "$pass" key1 'pässwörd 1; $(x)' gcm)
jkey=$1 jiv=$2 jct=$3
check "key1: same key bytes as Java's KeyStore" \
	"$("$tool" key "keystore:$ks" "$pass" key1)" "$jkey"
check "GCM password wrapped by Java unwraps" \
	"$("$tool" unwrap "keystore:$ks" "$pass" key1 "$jiv" "$jct")" \
	'pässwörd 1; $(x)'

set -- $(java "$wrapper" "$ks" "$pass" mykey 'cbc password' cbc)
mkey=$1 miv=$2 mct=$3
check "alias MyKey (keytool lowercases it): same key bytes" \
	"$("$tool" key "keystore:$ks" "$pass" MyKey)" "$mkey"
check "CBC/PKCS5 password wrapped by Java unwraps" \
	"$("$tool" unwrap "keystore:$ks" "$pass" MyKey "$miv" "$mct")" \
	'cbc password'
[ "$jkey" != "$mkey" ] && ok "the two aliases hold different keys" ||
	notok "the two aliases hold different keys"

# wrapped as dmfctl job add --password-stdin --key does, unwrapped by the worker
set -- $("$tool" wrap "keystore:$ks" "$pass" key1 'dmfctl-pw 42')
check "dmfctl-wrapped password round-trips" \
	"$("$tool" unwrap "keystore:$ks" "$pass" key1 "$1" "$2")" 'dmfctl-pw 42'
civ=$1 cct=$2

# each bad-key case fails with its own message
contains "wrong keystore secret" \
	"$("$tool" unwrap "keystore:$ks" wrong key1 "$civ" "$cct")" \
	"wrong secret (MAC verification failed)"
contains "alias not in the keystore" \
	"$("$tool" unwrap "keystore:$ks" "$pass" key9 "$civ" "$cct")" \
	"has no secret key with alias 'key9'"
contains "missing keystore file" \
	"$("$tool" unwrap "keystore:$tmp/none.p12" "$pass" key1 "$civ" "$cct")" \
	"cannot read keystore $tmp/none.p12: No such file or directory"
contains "right keystore, other key" \
	"$("$tool" unwrap "keystore:$ks" "$pass" MyKey "$civ" "$cct")" \
	"failed authentication (wrong key or tampered ciphertext)"
tampered=$(printf '%s' "$cct" | sed 's/^./A/; t; s/^/A/')
[ "$tampered" = "$cct" ] && tampered=$(printf '%s' "$cct" | sed 's/^./B/')
contains "tampered ciphertext" \
	"$("$tool" unwrap "keystore:$ks" "$pass" key1 "$civ" "$tampered")" \
	"failed authentication"
contains "truncated ciphertext" \
	"$("$tool" unwrap "keystore:$ks" "$pass" key1 "$civ" "AAAA")" \
	"truncated"
printf 'not a keystore' >"$tmp/junk.p12"
contains "not a PKCS#12 file" \
	"$("$tool" unwrap "keystore:$tmp/junk.p12" "$pass" key1 "$civ" "$cct")" \
	"is not a PKCS#12 file"

echo "1..$n"
[ "$failed" = 0 ]
