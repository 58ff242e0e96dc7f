# shellcheck shell=bash
# tests/gen/tlscerts.sh: make test certificates with the openssl CLI (sourced by tls.sh).
# tls_certs DIR creates, all EC P-256:
#   ca.crt/ca.key        "flowmedic test CA" (the CA the clients trust)
#   good.crt/.key        invoice.test, signed by the CA, valid now for 365 days
#   expired.crt/.key     invoice.test, signed by the CA, valid 2024-01-01 .. 2024-12-31
#   wrongname.crt/.key   other.test, signed by the CA, valid now
#   otherca.crt/.key     a second CA nobody trusts; unknownca.crt/.key: invoice.test signed by it
#   selfsigned.crt/.key  invoice.test, self-signed
#   hostile.crt/.key     invoice.test signed by the CA, then its DER patched: notAfter's month
#                        is 13 (not a date), and O = "evil ESC[2J U+009B 31m" (terminal controls);
#                        the patch breaks the CA's signature
tls_certs() {
	local d=$1 n
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
		openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/O=flowmedic tests/CN=flowmedic test CA" \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
			-out ca.crt 2>/dev/null
		openssl ecparam -name prime256v1 -genkey -noout -out otherca.key 2>/dev/null
		openssl req -x509 -new -key otherca.key -sha256 -days 3650 -subj "/O=Elsewhere/CN=untrusted test CA" \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
			-out otherca.crt 2>/dev/null
		for n in good expired wrongname unknownca selfsigned; do
			openssl ecparam -name prime256v1 -genkey -noout -out "$n.key" 2>/dev/null
		done
		leaf_ext() {
			printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s\n' "$1"
		}
		leaf_ext invoice.test >inv.ext
		leaf_ext other.test >other.ext
		openssl req -new -key good.key -subj "/CN=invoice.test" -out good.csr
		openssl x509 -req -in good.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -sha256 \
			-extfile inv.ext -out good.crt 2>/dev/null
		openssl req -new -key wrongname.key -subj "/CN=other.test" -out wrongname.csr
		openssl x509 -req -in wrongname.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -sha256 \
			-extfile other.ext -out wrongname.crt 2>/dev/null
		openssl req -new -key unknownca.key -subj "/CN=invoice.test" -out unknownca.csr
		openssl x509 -req -in unknownca.csr -CA otherca.crt -CAkey otherca.key -CAcreateserial -days 365 \
			-sha256 -extfile inv.ext -out unknownca.crt 2>/dev/null
		openssl req -x509 -new -key selfsigned.key -sha256 -days 365 -subj "/CN=invoice.test" \
			-addext "subjectAltName=DNS:invoice.test" -addext "basicConstraints=CA:FALSE" -out selfsigned.crt 2>/dev/null
		# expired: openssl 3.0's x509 -req has no -not_before/-not_after, so use "openssl ca"
		mkdir -p ca.db
		: >ca.db/index.txt
		echo 1000 >ca.db/serial
		cat >ca.cnf <<CNF
[ ca ]
default_ca = tca
[ tca ]
dir = ./ca.db
database = ./ca.db/index.txt
new_certs_dir = ./ca.db
serial = ./ca.db/serial
default_md = sha256
policy = pol
unique_subject = no
copy_extensions = none
x509_extensions = leaf
[ pol ]
commonName = supplied
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:invoice.test
CNF
		openssl req -new -key expired.key -subj "/CN=invoice.test" -out expired.csr
		openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in expired.csr -out expired.crt \
			-startdate 20240101000000Z -enddate 20241231235959Z -notext 2>/dev/null
	)
	(
		cd "$d" || exit 1
		openssl ecparam -name prime256v1 -genkey -noout -out hostile.key 2>/dev/null
		openssl req -new -key hostile.key -utf8 \
			-subj "/O=evil$(printf '\033')[2J$(printf '\302\233')31m/CN=invoice.test" -out hostile.csr
		openssl x509 -req -in hostile.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -sha256 \
			-extfile inv.ext -out hostile.pre.crt 2>/dev/null
		openssl x509 -in hostile.pre.crt -outform DER -out hostile.pre.der
		/usr/bin/python3 - hostile.pre.der hostile.crt <<'PY'
import base64, sys
der = bytearray(open(sys.argv[1], "rb").read())
nb = der.find(b"\x17\x0d")              # Validity: notBefore UTCTime, then notAfter
na = der.find(b"\x17\x0d", nb + 15)
assert nb > 0 and na == nb + 15, "validity not found"
der[na + 4:na + 6] = b"13"               # YYMMDDhhmmssZ: month 13
b64 = base64.encodebytes(bytes(der)).decode().replace("\n", "")
pem = "".join(b64[i:i + 64] + "\n" for i in range(0, len(b64), 64))
open(sys.argv[2], "w").write("-----BEGIN CERTIFICATE-----\n" + pem + "-----END CERTIFICATE-----\n")
PY
	)
	for n in ca good expired wrongname unknownca selfsigned hostile; do
		[ -s "$d/$n.crt" ] || gen_die "certificate $n not made"
	done
}

# tls_chain_certs DIR creates a two-level PKI (EC P-256) for the chain samples:
#   root.crt/.key        "flowmedic chain test root" (the root the clients and --ca-file trust)
#   inter.crt/.key       "flowmedic chain test intermediate", signed by the root (pathlen 0)
#   leaf.crt/.key        invoice.test, signed by the intermediate, valid now for 365 days
#   chain.pem            the intermediate: what the server must send after its leaf
#   oroot, ointer, oleaf the same shape under "Elsewhere chain root", a root nobody trusts;
#   ochain.pem           ointer + oroot: that server sends its whole chain, root included
tls_chain_certs() {
	local d=$1
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		ca_ext() { printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n'; }
		printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:invoice.test\nauthorityKeyIdentifier=keyid:always\n' >leaf.ext
		ca_ext >inter.ext
		for p in "" o; do
			local org="flowmedic tests" name="flowmedic chain test"
			[ -z "$p" ] || { org="Elsewhere"; name="Elsewhere chain"; }
			for n in root inter leaf; do
				openssl ecparam -name prime256v1 -genkey -noout -out "$p$n.key" 2>/dev/null
			done
			openssl req -x509 -new -key "${p}root.key" -sha256 -days 3650 -subj "/O=$org/CN=$name root" \
				-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
				-out "${p}root.crt" 2>/dev/null
			openssl req -new -key "${p}inter.key" -subj "/O=$org/CN=$name intermediate" -out "${p}inter.csr"
			openssl x509 -req -in "${p}inter.csr" -CA "${p}root.crt" -CAkey "${p}root.key" -CAcreateserial \
				-days 1825 -sha256 -extfile inter.ext -out "${p}inter.crt" 2>/dev/null
			openssl req -new -key "${p}leaf.key" -subj "/CN=invoice.test" -out "${p}leaf.csr"
			openssl x509 -req -in "${p}leaf.csr" -CA "${p}inter.crt" -CAkey "${p}inter.key" -CAcreateserial \
				-days 365 -sha256 -extfile leaf.ext -out "${p}leaf.crt" 2>/dev/null
		done
		cat inter.crt >chain.pem
		cat ointer.crt oroot.crt >ochain.pem
		openssl verify -CAfile root.crt -untrusted chain.pem leaf.crt >/dev/null || exit 1
		if openssl verify -CAfile root.crt leaf.crt >/dev/null 2>&1 ||
			openssl verify -CAfile root.crt -untrusted ochain.pem oleaf.crt >/dev/null 2>&1; then
			exit 1
		fi
	) || gen_die "chain certificates not made (or they do not verify as intended)"
	for n in root inter leaf oroot ointer oleaf; do
		[ -s "$d/$n.crt" ] || gen_die "certificate $n not made"
	done
}
