#!/usr/bin/env bash
# Starts CUPS with a CUPS-PDF queue named PDF for the print tests and prints the directory the
# queue writes its PDFs to (the only line on stdout):
#   export IKD_TEST_PRINTER=PDF IKD_TEST_PRINTER_OUT="$(sudo build/cups.sh)"
# Idempotent: installs Debian's cups and printer-driver-cups-pdf only if missing, leaves a
# running cupsd and an existing queue as they are. Needs root (apt-get, cupsd, lpadmin).
set -euo pipefail

queue=${IKD_PRINTER_QUEUE:-PDF}
out=/var/spool/cups-pdf/out

log() { echo "cups.sh: $*" >&2; }

# start_cupsd starts the daemon holding no descriptors beyond 0-2: it outlives this script,
# and an inherited pipe (such as the caller's $(...)) would keep the caller waiting.
start_cupsd() (
	for p in /proc/$BASHPID/fd/*; do
		fd="${p##*/}"
		if [ "$fd" -gt 2 ]; then
			eval "exec $fd>&-" 2>/dev/null || true
		fi
	done
	/usr/sbin/cupsd </dev/null >/dev/null 2>&1
)

main() {
	if [ "$(id -u)" -ne 0 ]; then
		log "must run as root (try: sudo $0)"
		exit 1
	fi
	if ! command -v cupsd >/dev/null 2>&1 || [ ! -x /usr/lib/cups/backend/cups-pdf ]; then
		log "installing Debian's cups and printer-driver-cups-pdf"
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -qq cups printer-driver-cups-pdf poppler-utils >&2
	fi

	# Every user's PDFs in one directory the tests can read, whoever printed.
	mkdir -p "$out"
	chmod 1777 "$out"
	conf=/etc/cups/cups-pdf.conf
	if ! grep -qx "Out $out" "$conf"; then
		sed -i -e '/^Out /d' "$conf"
		echo "Out $out" >>"$conf"
	fi

	if ! lpstat -r 2>/dev/null | grep -q 'is running'; then
		log "starting cupsd"
		start_cupsd
		for _ in $(seq 100); do
			lpstat -r 2>/dev/null | grep -q 'is running' && break
			sleep 0.1
		done
		lpstat -r | grep -q 'is running' || { log "cupsd did not start"; exit 1; }
	fi

	if ! lpstat -p "$queue" >/dev/null 2>&1; then
		log "adding queue $queue"
		lpadmin -p "$queue" -E -v cups-pdf:/ -P /usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd
	fi
	cupsenable "$queue"
	cupsaccept "$queue"
	echo "$out"
}

main "$@"
