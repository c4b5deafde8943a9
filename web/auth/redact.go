package auth

import "regexp"

// Where a job failed can say more than its reader may know: a webhook's
// delivery error names the receiver's URL and address, which only an admin
// may see (the webhooks routes are admin's). For everyone else,
// RedactAddresses cuts URLs and network addresses out of such messages.
var (
	urlPattern  = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s"'<>]+`)
	addrPattern = regexp.MustCompile(`\[[0-9a-fA-F:.]+\](:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b|\b[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)+:\d{1,5}\b`)
)

// RedactAddresses replaces the URLs and the network addresses (IP
// addresses, host:port) in s with placeholders.
func RedactAddresses(s string) string {
	s = urlPattern.ReplaceAllString(s, "[url]")
	return addrPattern.ReplaceAllString(s, "[address]")
}

// SeesAddresses reports whether the holder of scope s may see the URLs
// and addresses of webhooks in job errors: admins only.
func SeesAddresses(s Scope) bool { return s.Allows(ScopeAdmin) }
