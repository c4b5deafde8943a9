package auth

import (
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/quirehq/quire/pipeline"
)

// Where a job failed can say more than its reader may know: a webhook's
// delivery error names the receiver's URL, host and address, which only an
// admin may see (the webhooks routes are admin's). For everyone else,
// RedactJobError cuts them out of such messages.
var (
	urlPattern  = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s"'<>]+`)
	addrPattern = regexp.MustCompile(`\[[0-9a-fA-F:.]+\](:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b|\b[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)+:\d{1,5}\b`)
	// lookupPattern is the name of a failed DNS lookup, as Go's resolver
	// words it: "lookup hooks.example.com on 10.0.0.53:53: no such host".
	lookupPattern = regexp.MustCompile(`\blookup [^\s:\[][^\s:]*`)
	// namePattern is a dotted name whose last label is a word, as host
	// names are (hooks.example.com), but "1.5s" or "v1.2" are not.
	namePattern = regexp.MustCompile(`\b[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*\.[a-zA-Z]{2,63}\b`)
)

// ownNames are the dotted names of Quire's own a webhook delivery's error
// may hold, which are no host's.
var ownNames = []string{pipeline.EventDocumentDone, pipeline.EventDocumentFailed}

// RedactJobError returns the error of a job of type jobType as a reader who
// may not see where webhooks go may read it: every URL, the host names
// those URLs name wherever else they appear, IP addresses, host:port pairs
// and the names of failed lookups replaced with placeholders. A webhook's
// delivery, whose very purpose is to reach a host and whose errors may
// name it bare ("hooks.example.com resolves to 10.0.0.5", a certificate
// "not valid for hooks.example.com"), has every dotted name replaced too.
func RedactJobError(jobType, msg string) string {
	reachesHost := jobType == pipeline.JobWebhook
	var hosts []string
	msg = urlPattern.ReplaceAllStringFunc(msg, func(u string) string {
		if p, err := url.Parse(u); err == nil && p.Hostname() != "" {
			if _, err := netip.ParseAddr(p.Hostname()); err != nil {
				hosts = append(hosts, p.Hostname())
			}
		}
		return "[url]"
	})
	for _, h := range hosts {
		msg = regexp.MustCompile(`(?i)\b`+regexp.QuoteMeta(h)+`\b`).ReplaceAllString(msg, "[host]")
	}
	msg = addrPattern.ReplaceAllString(msg, "[address]")
	msg = lookupPattern.ReplaceAllString(msg, "lookup [host]")
	if reachesHost {
		msg = namePattern.ReplaceAllStringFunc(msg, func(n string) string {
			if strings.HasPrefix(n, "[") || slices.Contains(ownNames, n) {
				return n
			}
			return "[host]"
		})
	}
	return msg
}

// SeesAddresses reports whether the holder of scope s may see the URLs,
// hosts and addresses of webhooks in job errors: admins only.
func SeesAddresses(s Scope) bool { return s.Allows(ScopeAdmin) }
