# Writes zstor configs for the integration suites.
# zt_write_config FILE M N RG RN META_SPEC GROUP_SPEC...
#   META_SPEC: 4 space-separated backends; GROUP_SPEC: space-separated backends of one
#   group. A backend is ADDRESS or ADDRESS#NAMESPACE or ADDRESS#NAMESPACE#PASSWORD.
#   Extra top-level lines can be given in $ZT_CONFIG_EXTRA.
zt_backend_toml() {	# table-header backend
	local addr=${2%%#*} rest ns pw
	printf '%s\naddress = "%s"\n' "$1" "$addr"
	if [[ $2 == *#* ]]; then
		rest=${2#*#}; ns=${rest%%#*}
		printf 'namespace = "%s"\n' "$ns"
		if [[ $rest == *#* ]]; then pw=${rest#*#}; printf 'password = "%s"\n' "$pw"; fi
	fi
}

zt_write_config() {
	local file=$1 m=$2 n=$3 rg=$4 rn=$5 meta=$6 b g
	shift 6
	{
		printf 'minimal_shards = %s\nexpected_shards = %s\n' "$m" "$n"
		printf 'redundant_groups = %s\nredundant_nodes = %s\n' "$rg" "$rn"
		[ -n "${ZT_CONFIG_EXTRA:-}" ] && printf '%s\n' "$ZT_CONFIG_EXTRA"
		printf '\n[encryption]\nalgorithm = "AES"\nkey = "%s"\n' \
			"${ZT_KEY:-4b1d0f2a9c3e5d7f60718293a4b5c6d7e8f90112233445566778899aabbccdde}"
		printf '\n[compression]\nalgorithm = "snappy"\n'
		printf '\n[meta]\ntype = "zdb"\n\n[meta.config]\nprefix = "%s"\n' "${ZT_PREFIX:-zt}"
		printf '\n[meta.config.encryption]\nalgorithm = "AES"\nkey = "%s"\n' \
			"0101010101010101010101010101010101010101010101010101010101010101"
		for b in $meta; do echo; zt_backend_toml '[[meta.config.backends]]' "$b"; done
		for g in "$@"; do
			printf '\n[[groups]]\n'
			for b in $g; do zt_backend_toml '[[groups.backends]]' "$b"; done
		done
	} >"$file"
}
