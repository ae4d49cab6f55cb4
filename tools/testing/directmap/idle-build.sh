#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A build that runs behind the guests of make check.  A TCG guest leaves
# the host's CPUs idle much of the time (sleeps, one busy vCPU of two); a
# kernel build started at SCHED_IDLE takes that time, and a guest gets
# its CPU back whenever it wants it (they still share caches and memory
# bandwidth and disk: the x86 integration ran 10% to 65% longer with one
# behind it).
#
#   idle-build.sh start DIR NAME COMMAND...
#	start COMMAND in the background, in a session of its own, output
#	to DIR/NAME.log
#   idle-build.sh wait DIR NAME COMMAND...
#	wait for NAME's, print its output, return its status; if no NAME
#	was started, run COMMAND here instead
#   idle-build.sh stop DIR
#	kill what an earlier run left behind (make stopped before a wait)

set -uo pipefail

usage() { sed -n '3,18s/^# \?//p' "$0" >&2; exit 2; }

[ $# -ge 2 ] || usage
how=$1 dir=$2

if [ "$how" = stop ]; then
	for pidf in "$dir"/*.pid; do
		[ -e "$pidf" ] || continue
		# its session: the build and everything it started
		kill -- "-$(cat "$pidf")" 2>/dev/null
		rm -f "$pidf"
	done
	exit 0
fi

[ $# -ge 4 ] || usage
name=$3
shift 3
log=$dir/$name.log
rc=$dir/$name.rc
pidf=$dir/$name.pid
tokf=$dir/$name.token

case $how in
start)
	mkdir -p "$dir"
	rm -f "$log" "$rc" "$pidf"
	token=$$.$(date +%s%N)
	echo "$token" > "$tokf"
	# setsid execs in place: $! leads the session that stop kills
	setsid "$0" run "$dir" "$name" "$token" "$@" \
		> /dev/null 2>&1 < /dev/null &
	echo $! > "$pidf"
	;;
run)
	token=$1
	shift
	# SCHED_IDLE where the host allows it, else the lowest nice
	if chrt --idle 0 true 2>/dev/null; then
		prio=(chrt --idle 0)
	else
		prio=(nice -n 19)
	fi
	"${prio[@]}" "$@" > "$log" 2>&1 < /dev/null
	status=$?
	# a later start of NAME owns the files now
	[ "$(cat "$tokf" 2>/dev/null)" = "$token" ] || exit 0
	echo "$status" > "$rc.new"
	mv "$rc.new" "$rc"
	;;
wait)
	if [ ! -e "$pidf" ] && [ ! -e "$rc" ]; then
		"$@"
		exit
	fi
	pid=$(cat "$pidf" 2>/dev/null)
	# until it says how it ended, or is gone (a zombie counts as gone)
	while [ ! -e "$rc" ]; do
		state=$(ps -o stat= -p "${pid:-0}" 2>/dev/null)
		case $state in
		"" | Z*) break ;;
		esac
		sleep 2
	done
	cat "$log" 2>/dev/null
	status=$(cat "$rc" 2>/dev/null) || {
		echo "idle-build: $name ended without a status" >&2
		status=1
	}
	exit "$status"
	;;
*)
	usage
	;;
esac
