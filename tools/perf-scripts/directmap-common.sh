# SPDX-License-Identifier: GPL-2.0
#
# What the directmap-* scripts share, sourced by each: errors and bad
# options answered as perf's own tools answer them.  Each script sets
# $prog and defines usage() first.

# shellcheck shell=bash disable=SC2154  # $prog: set by the script that sources this

die() {
	echo "$prog: $*" >&2
	exit 2
}

# One line for a bad option ($1: getopts' answer, $2: the word at OPTIND),
# and exit 2; --help, which getopts cannot parse, prints the usage
bad_option() {
	if [ "$2" = --help ]; then
		usage
		exit 0
	elif [ "$1" = : ]; then
		die "option -$OPTARG needs an argument; see '$prog --help'"
	elif [ "$OPTARG" = - ]; then
		die "unknown option $2; see '$prog --help'"
	fi
	die "unknown option -$OPTARG; see '$prog --help'"
}
