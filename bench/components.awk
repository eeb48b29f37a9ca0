# bench/components.awk: groups the per-function list of
# `callgrind_annotate --auto=no --threshold=100` by the part of stripwatch
# (or the library) each function belongs to, and prints each part's share of
# the instructions, largest first.  Used by bench/run.sh --instructions.

function part(file, obj) {
	if (obj ~ /libsqlite3/)			return "SQLite"
	if (obj ~ /libndpi/ || file ~ /classify\.c$/) return "nDPI"
	if (obj ~ /libcrypto|libssl/)		return "OpenSSL"
	if ((obj ~ /libc\.so|ld-linux/) && file ~ /malloc/)
		return "C library: malloc, free"
	if (obj ~ /libc\.so|ld-linux/)		return "C library: strings, stdio"
	if (file ~ /bits\/(string_fortified|stdio2)\.h$/)
		return "C library: inlined copies"
	if (file ~ /capture\/(pcapfile|capture)\.c$/) return "reading (capture/)"
	if (file ~ /capture\/decode\.c$/)	return "decoding, checksums"
	if (file ~ /dissect\/flow\.c$/)		return "flow table"
	if (file ~ /dissect\/reasm\.c$/)	return "reassembly"
	if (file ~ /dissect\/(smtp|tls)\.c$/)	return "SMTP, TLS dissectors"
	if (file ~ /detect\//)			return "judgement (detect/)"
	if (file ~ /store\//)			return "store (store/)"
	if (file ~ /policy\//)			return "MTA-STS policies (policy/)"
	if (file ~ /monitor\.c$/)		return "monitor loop, hooks"
	return "other"
}

/PROGRAM TOTALS/ {
	total = $1
	gsub(",", "", total)
	next
}

match($0, /^ *[0-9,]+ +\( *[0-9.]+%\) +/) {
	n = $1
	gsub(",", "", n)
	rest = substr($0, RLENGTH + 1)
	obj = ""
	if (match(rest, /\[[^]]*\]$/))
		obj = substr(rest, RSTART + 1, RLENGTH - 2)
	file = rest
	sub(/:.*/, "", file)
	sum[part(file, obj)] += n
}

END {
	if (total == 0)
		exit 1
	for (p in sum)
		printf "%5.1f %% %s\n", 100 * sum[p] / total, p | "sort -rn"
	close("sort -rn")
}
