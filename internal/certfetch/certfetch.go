// Package certfetch fetches the certificate chain a TLS server presents:
// https://host[:port] and ldaps://host[:port] (TLS from the first byte) and
// ldap://host[:port] with StartTLS. Only the handshake is made, never an
// HTTP request, and the dialer refuses the addresses a server-side fetch
// must not reach (see Policy).
package certfetch
