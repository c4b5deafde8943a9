package extract

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Apple Mail keeps each message in a file of its own (.emlx): a line with
// the byte count of the message, the RFC 5322 message itself, then an XML
// property list of what Mail knows of it (its flags, the date it came in).
// The message is read by the email reader, so an .emlx reads as the same
// message saved as .eml, with its attachments as children; the flags the
// property list holds join its metadata. A message whose attachments Mail
// stored apart (a .partial.emlx) is read as it is, without them.

func init() {
	register(&format{name: "emlx", types: []string{typeEmlx}, extract: extractEmlx})
}

const typeEmlx = "message/x-emlx"

// emlxCount returns the byte count of the first line and where the message
// starts: ASCII digits, at most 10 of them, then a line end.
func emlxCount(data []byte) (n int64, start int, ok bool) {
	i := 0
	for i < len(data) && i <= 10 && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	if i == 0 || i > 10 {
		return 0, 0, false
	}
	start = i
	switch {
	case bytes.HasPrefix(data[i:], []byte("\r\n")):
		start += 2
	case bytes.HasPrefix(data[i:], []byte("\n")):
		start++
	default:
		return 0, 0, false
	}
	n, err := strconv.ParseInt(string(data[:i]), 10, 64)
	return n, start, err == nil
}

// isEmlx reports whether data is a byte count followed by a message header.
func isEmlx(data []byte) bool {
	_, start, ok := emlxCount(data)
	return ok && looksLikeEmail(data[start:], false)
}

// emlxFlags name the bits of an .emlx's flags, from the lowest.
var emlxFlags = []string{"read", "deleted", "answered", "encrypted", "flagged", "recent", "draft", "initial", "forwarded", "redirected"}

var emlxFlagsKey = regexp.MustCompile(`<key>flags</key>\s*<integer>(\d{1,20})</integer>`)

func extractEmlx(ctx context.Context, x *Extractor, in *Input, b *budget) (*Result, error) {
	n, start, ok := emlxCount(in.Data)
	if !ok {
		return nil, fmt.Errorf("%w: an Apple Mail message without its byte count", ErrCorrupt)
	}
	msg, plist := in.Data[start:], []byte(nil)
	cut := false
	if n <= int64(len(msg)) {
		msg, plist = msg[:n], msg[n:]
	} else {
		cut = true
	}
	res, err := extractEmail(ctx, x, &Input{Name: in.Name, Data: msg, Type: typeEmail}, b)
	if err != nil {
		return nil, err
	}
	if cut {
		res.Warnings = append(res.Warnings, fmt.Sprintf("message cut short: %d bytes declared, %d present", n, len(msg)))
	}
	if m := emlxFlagsKey.FindSubmatch(head(plist, 64<<10)); m != nil {
		if v, err := strconv.ParseUint(string(m[1]), 10, 64); err == nil {
			var set []string
			for i, f := range emlxFlags {
				if v&(1<<i) != 0 {
					set = append(set, f)
				}
			}
			if len(set) > 0 {
				res.Meta["flags"] = strings.Join(set, ", ")
			}
		}
	}
	return res, nil
}
