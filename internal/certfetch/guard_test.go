package certfetch

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

const allowHint = ", which Keyward does not connect to; an administrator can allow it with --fetch-allow."

// TestRefusedAddressesAreNeverDialled fetches forbidden addresses. Each is
// first checked against the policy directly, so that a broken guard fails
// the test instead of sending a packet to a metadata service or a private
// network.
func TestRefusedAddressesAreNeverDialled(t *testing.T) {
	private := Policy{DenyPrivate: true, Timeout: time.Second}
	localhost := firstAddress(t, "localhost")
	for _, tc := range []struct {
		policy Policy
		url    string
		addr   string // what the guard checks
		want   string
	}{
		{Policy{}, "https://127.0.0.1", "127.0.0.1", "127.0.0.1 is a loopback address" + allowHint},
		{Policy{}, "https://127.1.2.3:8443", "127.1.2.3", "127.1.2.3 is a loopback address" + allowHint},
		{Policy{}, "https://[::1]", "::1", "::1 is a loopback address" + allowHint},
		{Policy{}, "https://[::ffff:127.0.0.1]", "::ffff:127.0.0.1", "::ffff:127.0.0.1 is a loopback address" + allowHint},
		{Policy{}, "https://169.254.169.254", "169.254.169.254", "169.254.169.254 is a link-local address (where cloud metadata services answer)" + allowHint},
		{Policy{}, "ldaps://[::ffff:169.254.169.254]", "::ffff:169.254.169.254", "::ffff:169.254.169.254 is a link-local address (where cloud metadata services answer)" + allowHint},
		{Policy{}, "https://[fe80::1]", "fe80::1", "fe80::1 is a link-local address (where cloud metadata services answer)" + allowHint},
		{Policy{}, "https://[64:ff9b::a9fe:a9fe]", "64:ff9b::a9fe:a9fe", "64:ff9b::a9fe:a9fe is a link-local address (where cloud metadata services answer) through NAT64" + allowHint},
		{Policy{}, "https://0.0.0.0", "0.0.0.0", "0.0.0.0 is an unspecified address" + allowHint},
		{Policy{}, "https://[::]", "::", ":: is an unspecified address" + allowHint},
		{Policy{}, "ldap://224.0.0.1", "224.0.0.1", "224.0.0.1 is a multicast address" + allowHint},
		{Policy{}, "https://[ff02::1]", "ff02::1", "ff02::1 is a multicast address" + allowHint},
		{Policy{}, "https://255.255.255.255", "255.255.255.255", "255.255.255.255 is the broadcast address" + allowHint},
		{Policy{}, "https://localhost", localhost, "localhost resolves to " + localhost + ", a loopback address" + allowHint},
		{private, "https://10.0.0.1", "10.0.0.1", privateMessage("10.0.0.1")},
		{private, "https://172.16.5.4", "172.16.5.4", privateMessage("172.16.5.4")},
		{private, "ldap://192.168.1.10", "192.168.1.10", privateMessage("192.168.1.10")},
		{private, "https://100.64.0.1", "100.64.0.1", privateMessage("100.64.0.1")},
		{private, "https://[fd00::1]", "fd00::1", privateMessage("fd00::1")},
	} {
		if tc.policy.check(netip.MustParseAddr(tc.addr)) == nil {
			t.Fatalf("%s: the policy lets %s through; not fetching it", tc.url, tc.addr)
		}
		fetchErr(t, tc.policy, tc.url, tc.want)
	}
}

// firstAddress is the first address host resolves to, as a refusal names
// it (127.0.0.1 for localhost on most machines, ::1 on some).
func firstAddress(t *testing.T, host string) string {
	t.Helper()
	addrs, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", host)
	if err != nil || len(addrs) == 0 {
		t.Fatalf("resolve %s: %v", host, err)
	}
	return addrs[0].Unmap().String()
}

func privateMessage(addr string) string {
	return addr + " is a private address, which Keyward does not connect to while --fetch-deny-private is set; an administrator can allow it with --fetch-allow."
}

func TestLoopbackRefusedByDefaultAndAllowed(t *testing.T) {
	pki := newTestPKI(t)
	addr := tlsServer(t, serverConfig(pki), newReports())
	_, port, _ := net.SplitHostPort(addr)

	fetchErr(t, Policy{}, "https://"+addr, "127.0.0.1 is a loopback address"+allowHint)
	fetchErr(t, Policy{}, "https://localhost:"+port, "localhost resolves to "+firstAddress(t, "localhost")+", a loopback address"+allowHint)

	for _, allow := range []string{"127.0.0.0/8", "127.0.0.1/32", "::ffff:127.0.0.0/104"} {
		p := Policy{Allow: []netip.Prefix{netip.MustParsePrefix(allow)}}
		pki.assertChain(t, fetchOK(t, p, "https://"+addr).Chain)
		pki.assertChain(t, fetchOK(t, p, "https://localhost:"+port).Chain)
	}
}

// TestPolicyCheck covers the classification without connecting anywhere.
func TestPolicyCheck(t *testing.T) {
	allowOffice := Policy{DenyPrivate: true, Allow: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}}
	for _, tc := range []struct {
		policy  Policy
		addr    string
		refused string // the class, or "" when allowed
	}{
		{Policy{}, "192.0.2.10", ""},
		{Policy{}, "2001:db8::10", ""},
		{Policy{}, "10.0.0.1", ""}, // private ranges are allowed by default
		{Policy{}, "100.64.1.1", ""},
		{Policy{}, "fd12::1", ""},
		{Policy{}, "64:ff9b::c000:20a", ""}, // NAT64 of 192.0.2.10
		{Policy{}, "0.1.2.3", "an unspecified address"},
		{Policy{}, "240.0.0.1", "a reserved address"},
		{Policy{}, "fe80::1%eth0", "a link-local address (where cloud metadata services answer)"},
		{Policy{}, "::ffff:10.0.0.1", ""},
		{Policy{DenyPrivate: true}, "::ffff:10.0.0.1", "a private address"},
		{Policy{DenyPrivate: true}, "64:ff9b::a00:1", "a private address through NAT64"},
		{Policy{DenyPrivate: true}, "172.32.0.1", ""}, // just outside 172.16.0.0/12
		{allowOffice, "10.20.3.4", ""},
		{allowOffice, "::ffff:10.20.3.4", ""},
		{allowOffice, "10.30.0.1", "a private address"},
		{allowOffice, "127.0.0.1", "a loopback address"},
		{Policy{Allow: []netip.Prefix{netip.MustParsePrefix("169.254.169.254/32")}}, "169.254.169.254", ""},
	} {
		r := tc.policy.check(netip.MustParseAddr(tc.addr))
		switch {
		case r == nil && tc.refused != "":
			t.Errorf("%+v lets %s through, want it refused as %s", tc.policy, tc.addr, tc.refused)
		case r != nil && r.class != tc.refused:
			t.Errorf("%+v refuses %s as %q, want %q", tc.policy, tc.addr, r.class, tc.refused)
		}
	}
}

// TestDialControl checks the last guard, which sees the address the socket
// connects to whatever resolved it.
func TestDialControl(t *testing.T) {
	p := Policy{DenyPrivate: true}
	for _, tc := range []struct {
		network, address string
		ok               bool
	}{
		{"tcp4", "192.0.2.10:443", true},
		{"tcp6", "[2001:db8::1]:636", true},
		{"udp4", "192.0.2.10:443", false},
		{"tcp4", "127.0.0.1:443", false},
		{"tcp6", "[::ffff:169.254.169.254]:80", false},
		{"tcp4", "10.1.1.1:389", false},
	} {
		err := p.control(tc.network, tc.address, nil)
		if (err == nil) != tc.ok {
			t.Errorf("control(%s, %s) = %v, want allowed %v", tc.network, tc.address, err, tc.ok)
		}
	}
}
