# enum msg_type from the message table in ipc/msg.c: one id per table entry,
# in table order, so that an id indexes the table. An entry starts a line with
# one tab and '{ "name",'; its fields are indented further.
BEGIN {
	print "/* Generated from the message table in ipc/msg.c by"
	print " * scripts/msg-types.awk; do not edit. */"
	print "#ifndef MSG_TYPES_H"
	print "#define MSG_TYPES_H"
	print ""
	print "enum msg_type {"
}
/^static const struct msg_def msg_table\[\] = \{/ { intable = 1; next }
intable && /^\};/ { intable = 0 }
intable && /^\t\{ "[a-z_]+",/ {
	match($0, /"[a-z_]+"/)
	printf "\tMT_%s,\n", toupper(substr($0, RSTART + 1, RLENGTH - 2))
}
END {
	print "\tMSG_TYPES\t/* how many */"
	print "};"
	print ""
	print "#endif"
}
