// A comparison server for the tsdns benchmarks, built on github.com/miekg/dns
// (the library CoreDNS is built on) and run with one core (GOMAXPROCS=1).
//
//	miekg whoami  ADDR           answers as CoreDNS's whoami does
//	miekg forward ADDR UPSTREAM  forwards as CoreDNS's forward does: a pool of
//	                             connected UDP sockets with one query in flight
//	                             on each, the reply read until its ID matches,
//	                             its question checked, then written back
//
// Neither goes through a plugin chain, so each is a floor for what CoreDNS
// spends on the same query. Built by test/bench/run.mjs when Go and miekg/dns
// are installed (Debian: apt-get install golang-go golang-github-miekg-dns-dev).
package main

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

var upstream string
var conns = sync.Pool{}

func dial() (*dns.Conn, error) {
	if c, ok := conns.Get().(*dns.Conn); ok {
		return c, nil
	}
	c, err := net.Dial("udp", upstream)
	if err != nil {
		return nil, err
	}
	return &dns.Conn{Conn: c, UDPSize: dns.DefaultMsgSize}, nil
}

func forward(w dns.ResponseWriter, r *dns.Msg) {
	c, err := dial()
	if err != nil {
		dns.HandleFailed(w, r)
		return
	}
	c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if err = c.WriteMsg(r); err != nil {
		c.Close()
		dns.HandleFailed(w, r)
		return
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	var ret *dns.Msg
	for {
		if ret, err = c.ReadMsg(); err != nil {
			c.Close()
			dns.HandleFailed(w, r)
			return
		}
		if ret.Id == r.Id {
			break
		}
	}
	conns.Put(c)
	if len(ret.Question) != 1 || !ret.Response || len(r.Question) != 1 ||
		!strings.EqualFold(ret.Question[0].Name, r.Question[0].Name) ||
		ret.Question[0].Qtype != r.Question[0].Qtype || ret.Question[0].Qclass != r.Question[0].Qclass {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeFormatError)
		w.WriteMsg(m)
		return
	}
	w.WriteMsg(ret)
}

func whoami(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	q := r.Question[0]
	a := w.RemoteAddr().(*net.UDPAddr)
	m.Extra = []dns.RR{
		&dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: q.Qclass}, A: a.IP.To4()},
		&dns.SRV{Hdr: dns.RR_Header{Name: "_udp." + q.Name, Rrtype: dns.TypeSRV, Class: q.Qclass}, Port: uint16(a.Port), Target: "."},
	}
	w.WriteMsg(m)
}

func main() {
	runtime.GOMAXPROCS(1)
	if len(os.Args) < 3 || (os.Args[1] == "forward" && len(os.Args) < 4) {
		fmt.Fprintln(os.Stderr, "usage: miekg whoami ADDR | miekg forward ADDR UPSTREAM")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "forward":
		upstream = os.Args[3]
		dns.HandleFunc(".", forward)
	case "whoami":
		dns.HandleFunc(".", whoami)
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(2)
	}
	srv := &dns.Server{Addr: os.Args[2], Net: "udp"}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
