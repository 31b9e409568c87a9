# tap.sh - TAP helpers for shell tests: ok, is, like, unlike, unlike_files, skip_all, done_testing.
tap_n=0
tap_failed=0

ok() { # ok COND_EXIT_CODE NAME
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

is() { # is GOT WANT NAME
	if [ "$1" = "$2" ]; then ok 0 "$3"; else
		ok 1 "$3"
		echo "#   got: '$1'"
		echo "#   expected: '$2'"
	fi
}

like() { # like TEXT EXTENDED_REGEX NAME
	if printf '%s' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else
		ok 1 "$3"
		printf '%s\n' "$1" | head -20 | sed 's/^/#   /'
		echo "#   does not match: $2"
	fi
}

unlike() { # unlike TEXT EXTENDED_REGEX NAME
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		ok 1 "$3"
		printf '%s\n' "$1" | grep -E -- "$2" | head -5 | sed 's/^/#   /'
	else ok 0 "$3"; fi
}

unlike_files() { # unlike_files EXTENDED_REGEX NAME FILE...: no FILE matches;
	# a missing FILE fails (unlike "$(cat FILE)" would pass it)
	local re=$1 name=$2 f
	shift 2
	for f in "$@"; do
		if [ ! -r "$f" ]; then
			ok 1 "$name"
			echo "#   $f is not there"
			return
		fi
	done
	unlike "$(cat "$@")" "$re" "$name"
}

diag() { echo "# $*"; }

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}
