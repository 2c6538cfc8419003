package certfetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/keyward/keyward/internal/errs"
)

// Address ranges the policy names; the rest come from netip.Addr's methods.
var (
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")     // "this network": never a destination
	reserved    = netip.MustParsePrefix("240.0.0.0/4")   // former class E, includes the broadcast address
	sharedNAT   = netip.MustParsePrefix("100.64.0.0/10") // RFC 6598 carrier-grade NAT
	nat64       = netip.MustParsePrefix("64:ff9b::/96")  // RFC 6052: reaches the IPv4 address in its last 32 bits
	broadcast   = netip.MustParseAddr("255.255.255.255") // limited broadcast
)

// refusal is an address the policy does not let a fetch connect to.
type refusal struct {
	addr  netip.Addr
	class string // "a loopback address", ...
	flag  string // the setting that refuses it, when one does
}

func (r *refusal) Error() string { return fmt.Sprintf("%s is %s", r.addr, r.class) }

// check returns why a is refused, or nil when a fetch may connect to it.
func (p Policy) check(a netip.Addr) *refusal {
	a = a.Unmap().WithZone("")
	for _, pr := range p.Allow {
		if unmapPrefix(pr).Contains(a) {
			return nil
		}
	}
	if a.Is6() && nat64.Contains(a) {
		b := a.As16()
		if r := p.check(netip.AddrFrom4([4]byte(b[12:]))); r != nil {
			return &refusal{addr: a, class: r.class + " through NAT64", flag: r.flag}
		}
		return nil
	}
	switch {
	case a.IsUnspecified() || thisNetwork.Contains(a):
		return &refusal{addr: a, class: "an unspecified address"}
	case a.IsLoopback():
		return &refusal{addr: a, class: "a loopback address"}
	case a.IsLinkLocalUnicast():
		return &refusal{addr: a, class: "a link-local address (where cloud metadata services answer)"}
	case a.IsMulticast():
		return &refusal{addr: a, class: "a multicast address"}
	case a == broadcast:
		return &refusal{addr: a, class: "the broadcast address"}
	case reserved.Contains(a):
		return &refusal{addr: a, class: "a reserved address"}
	case p.DenyPrivate && (a.IsPrivate() || sharedNAT.Contains(a)):
		return &refusal{addr: a, class: "a private address", flag: "--fetch-deny-private"}
	}
	return nil
}

// unmapPrefix turns an IPv4-mapped prefix (::ffff:10.0.0.0/104) into the
// IPv4 prefix it means, because addresses are unmapped before they are
// compared.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// control is the dialer's last check, made on the address the socket is
// about to connect to: TCP only, and nothing the policy refuses.
func (p Policy) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("certfetch: network %s refused: fetches use TCP only", network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("certfetch: cannot check address %q: %w", address, err)
	}
	if r := p.check(ap.Addr()); r != nil {
		return r
	}
	return nil
}

// dial resolves t's host, checks every address and connects to the first
// allowed one that answers. An address the policy refuses is never dialled;
// when all are refused the first refusal is the error.
func (f *Fetcher) dial(ctx context.Context, t target) (net.Conn, error) {
	addrs := []netip.Addr{t.ip}
	if !t.ip.IsValid() {
		var err error
		if addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", t.host); err != nil {
			return nil, &stageError{stage: stageLookup, err: err}
		}
	}
	var first *refusal
	var lastErr error
	d := f.dialer()
	for _, a := range addrs {
		if r := f.Policy.check(a); r != nil {
			if first == nil {
				first = r
			}
			continue
		}
		conn, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(a.Unmap(), t.port).String())
		if err == nil {
			return conn, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	if lastErr == nil && first != nil {
		return nil, first
	}
	if lastErr == nil {
		lastErr = &net.DNSError{Err: "no address", Name: t.host, IsNotFound: true}
	}
	return nil, &stageError{stage: stageDial, err: lastErr}
}

// refusalError is the message for r about t.
func refusalError(field string, t target, r *refusal) *errs.Error {
	what := fmt.Sprintf("%s resolves to %s, %s", t.host, r.addr, r.class)
	if t.ip.IsValid() && t.ip.Unmap().WithZone("") == r.addr {
		what = fmt.Sprintf("%s is %s", t.host, r.class)
	}
	which := "which Keyward does not connect to"
	if r.flag != "" {
		which = fmt.Sprintf("which Keyward does not connect to while %s is set", r.flag)
	}
	return errs.FieldErrorf(field, "%s, %s; an administrator can allow it with --fetch-allow.", what, which)
}

// asRefusal finds a refusal, also one the dialer's Control returned.
func asRefusal(err error) (*refusal, bool) {
	var r *refusal
	return r, errors.As(err, &r)
}
