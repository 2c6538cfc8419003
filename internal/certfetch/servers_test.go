package certfetch

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// serve runs handle for each connection to a fresh listener on 127.0.0.1
// and returns its host:port. Connections end after 5s at the latest, and the
// test waits for all of them when it ends.
func serve(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// handshakeReport is what a test TLS server saw of one connection.
type handshakeReport struct {
	serverName string // SNI
	err        error  // of the server's handshake
	afterBytes int64  // application data read after the handshake
	startTLS   bool   // an LDAP StartTLS request came first
}

// reports collects one handshakeReport per connection.
type reports chan handshakeReport

func newReports() reports { return make(reports, 8) }

// next waits for the report of the next connection.
func (r reports) next(t *testing.T) handshakeReport {
	t.Helper()
	select {
	case rep := <-r:
		return rep
	case <-time.After(5 * time.Second):
		t.Fatal("the test server reported no connection")
		return handshakeReport{}
	}
}

// tlsHandshake makes the server side of a handshake on c and then reads
// until the client goes, counting what it sends.
func tlsHandshake(c net.Conn, cfg *tls.Config, rep handshakeReport, out reports) {
	tc := tls.Server(c, cfg)
	rep.err = tc.Handshake()
	rep.serverName = tc.ConnectionState().ServerName
	if rep.err == nil {
		rep.afterBytes, _ = io.Copy(io.Discard, tc)
	}
	out <- rep
}

// tlsServer is an HTTPS or LDAPS server: TLS from the first byte.
func tlsServer(t *testing.T, cfg *tls.Config, out reports) string {
	return serve(t, func(c net.Conn) { tlsHandshake(c, cfg, handshakeReport{}, out) })
}

// serverConfig presents the PKI's leaf and intermediate.
func serverConfig(p *testPKI) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.serverCert()}}
}

const startTLSOID = "1.3.6.1.4.1.1466.20037"

// ldapServer answers one LDAP StartTLS request with resultCode (0 success,
// 2 protocolError, ...) and diag; after success it makes the TLS handshake,
// or, with plainAfter set, answers the ClientHello with plain text.
func ldapServer(t *testing.T, cfg *tls.Config, resultCode int64, diag string, plainAfter bool, out reports) string {
	return serve(t, func(c net.Conn) {
		msgID, err := readStartTLS(c)
		if err != nil {
			out <- handshakeReport{err: err}
			return
		}
		if _, err := c.Write(extendedResponse(msgID, resultCode, diag)); err != nil {
			out <- handshakeReport{err: err, startTLS: true}
			return
		}
		switch {
		case resultCode != 0:
			io.Copy(io.Discard, c)
			out <- handshakeReport{startTLS: true}
		case plainAfter:
			c.Read(make([]byte, 1024)) // the ClientHello
			c.Write([]byte("220 this is not TLS\r\n"))
			io.Copy(io.Discard, c)
			out <- handshakeReport{startTLS: true}
		default:
			tlsHandshake(c, cfg, handshakeReport{startTLS: true}, out)
		}
	})
}

// readStartTLS reads an LDAPMessage and checks that it is the StartTLS
// extended request (RFC 4511 4.14.1), returning its message ID.
func readStartTLS(c net.Conn) (int64, error) {
	p, err := ber.ReadPacket(c)
	if err != nil {
		return 0, err
	}
	if len(p.Children) != 2 {
		return 0, errors.New("not an LDAPMessage")
	}
	id, ok := p.Children[0].Value.(int64)
	op := p.Children[1]
	if !ok || op.ClassType != ber.ClassApplication || op.Tag != 23 || len(op.Children) < 1 ||
		op.Children[0].ClassType != ber.ClassContext || op.Children[0].Tag != 0 {
		return 0, errors.New("not an extended request")
	}
	if name := string(op.Children[0].Data.Bytes()); name != startTLSOID {
		return 0, errors.New("extended request " + name + ", not StartTLS")
	}
	return id, nil
}

// extendedResponse encodes an ExtendedResponse ([APPLICATION 24]) to msgID.
func extendedResponse(msgID, resultCode int64, diag string) []byte {
	msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAPMessage")
	msg.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, msgID, "messageID"))
	resp := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 24, nil, "ExtendedResponse")
	resp.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, resultCode, "resultCode"))
	resp.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matchedDN"))
	resp.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diag, "diagnosticMessage"))
	if resultCode == 0 {
		resp.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 10, startTLSOID, "responseName"))
	}
	msg.AppendChild(resp)
	return msg.Bytes()
}

// echoServer sends back whatever it receives: the client's own ClientHello
// or LDAP request.
func echoServer(t *testing.T) string {
	return serve(t, func(c net.Conn) { io.Copy(c, c) })
}

// bannerServer greets with a line of text, as SSH or SMTP servers do.
func bannerServer(t *testing.T) string {
	return serve(t, func(c net.Conn) {
		c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
		io.Copy(io.Discard, c)
	})
}

// closingServer reads what the client sends first and hangs up.
func closingServer(t *testing.T) string {
	return serve(t, func(c net.Conn) {
		c.Read(make([]byte, 1024))
	})
}

// silentServer accepts, signals accepted, and never answers.
func silentServer(t *testing.T, accepted chan<- struct{}) string {
	return serve(t, func(c net.Conn) {
		if accepted != nil {
			accepted <- struct{}{}
		}
		io.Copy(io.Discard, c)
	})
}
