package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrWebhookTarget means a webhook's URL points at an address Quire refuses to
// call (loopback, private, link-local, unspecified or multicast), unless
// Config.WebhookAllowPrivate allows it. Whoever registers a webhook chooses
// where the workers send requests; without this, a webhook could reach the
// cloud's metadata service or any service inside the network.
var ErrWebhookTarget = errors.New("webhook target refused")

// refusedPrefixes are the ranges webhooks never reach by default, besides
// what netip.Addr's own predicates (loopback, private, link-local,
// multicast, unspecified) cover: ranges that are not the public Internet.
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT, some clouds' metadata
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and the broadcast address
	netip.MustParsePrefix("::/96"),          // IPv4-compatible (deprecated)
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("2001:10::/28"),   // ORCHID
	netip.MustParsePrefix("255.255.255.255/32"),
}

// refusedAddr reports why a webhook may not reach addr by default, or ""
// when it may.
func refusedAddr(addr netip.Addr) string {
	addr = addr.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	switch {
	case !addr.IsValid():
		return "invalid address"
	case addr.IsLoopback():
		return "loopback address"
	case addr.IsPrivate():
		return "private address"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "link-local address"
	case addr.IsUnspecified():
		return "unspecified address"
	case addr.IsMulticast(), addr.IsInterfaceLocalMulticast():
		return "multicast address"
	}
	// A NAT64 address embeds an IPv4 one: judge that.
	if nat64 := netip.MustParsePrefix("64:ff9b::/96"); nat64.Contains(addr) {
		b := addr.As16()
		if why := refusedAddr(netip.AddrFrom4([4]byte(b[12:]))); why != "" {
			return why + " (through NAT64)"
		}
	}
	for _, p := range refusedPrefixes {
		if p.Contains(addr) {
			return "reserved address"
		}
	}
	return ""
}

// webhookResolveTimeout bounds the name lookup of a webhook's host at
// registration.
const webhookResolveTimeout = 5 * time.Second

// CheckWebhookURL checks that a webhook's URL is one the pipeline will call:
// an http or https URL whose host is not, and does not resolve to, a
// refused address (see ErrWebhookTarget), unless Config.WebhookAllowPrivate.
// A host that does not resolve now is accepted: names change, and every
// delivery checks the address it connects to anyway, so a name that later
// resolves to a refused address (DNS rebinding) is refused then.
func (p *Pipeline) CheckWebhookURL(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("webhook URL %q is not an http or https URL", rawURL)
	}
	if p.cfg.WebhookAllowPrivate {
		return nil
	}
	host := strings.TrimSuffix(u.Hostname(), ".")
	if addr, err := netip.ParseAddr(host); err == nil {
		if why := refusedAddr(addr); why != "" {
			return fmt.Errorf("%w: %s is a %s; set WebhookAllowPrivate (--webhook-allow-private) to allow it", ErrWebhookTarget, host, why)
		}
		return nil
	}
	lower := strings.ToLower(host)
	if lower == "localhost" || strings.HasSuffix(lower, ".localhost") {
		return fmt.Errorf("%w: %s is a loopback address; set WebhookAllowPrivate (--webhook-allow-private) to allow it", ErrWebhookTarget, host)
	}
	ctx, cancel := context.WithTimeout(ctx, webhookResolveTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil // see above: the dial-time check decides
	}
	for _, a := range addrs {
		if why := refusedAddr(a); why != "" {
			return fmt.Errorf("%w: %s resolves to %s, a %s; set WebhookAllowPrivate (--webhook-allow-private) to allow it",
				ErrWebhookTarget, host, a.Unmap(), why)
		}
	}
	return nil
}

// webhookDialControl refuses, at the moment of connecting, an address a
// webhook may not reach. Checking the address actually dialled, after name
// resolution, is what stops DNS rebinding (a name that resolved to a public
// address at registration and to 127.0.0.1 now) and redirects to private
// addresses.
func webhookDialControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot read the address %q", ErrWebhookTarget, address)
	}
	if why := refusedAddr(ap.Addr()); why != "" {
		return fmt.Errorf("%w: %s is a %s", ErrWebhookTarget, ap.Addr().Unmap(), why)
	}
	return nil
}

// newWebhookClient returns the HTTP client that delivers webhooks: a 10 s
// timeout, and, unless allowPrivate, a dialer that refuses private
// addresses. It uses no proxy from the environment: through a proxy, the
// dialer would see only the proxy's address, and the check would be void.
func newWebhookClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = webhookDialControl
	}
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: t}
}
