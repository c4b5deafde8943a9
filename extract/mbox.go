package extract

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/mail"
	"strconv"
	"strings"
)

func init() {
	register(&format{name: "mbox", types: []string{typeMbox}, extract: extractMbox})
}

// typeMbox is a mailbox of several messages, one after the other, each
// starting with a "From " line (RFC 4155).
const typeMbox = "application/mbox"

// An mbox file is a container like an archive: each message becomes a
// child document of its own (an email, with its attachments in turn), and
// the mailbox's text lists the messages, a line each (date, sender,
// subject), so that a search for a subject finds the mailbox. The messages
// are slices of the mailbox, never copies, and at most Limits.MaxChildren
// of them become documents; the others are listed and counted.
//
// A file of one message that starts with a "From " line (many clients save
// a message so) is an email, not a mailbox: isMbox wants two messages.

// isMbox reports whether data is a mailbox of at least two messages: it
// starts with a From line followed by a header field, and another From
// line after an empty line is followed by one too.
func isMbox(data []byte) bool {
	if !isFromLine(data) {
		return false
	}
	for _, at := range mboxStarts(data, 2) {
		if at > 0 {
			return true
		}
	}
	return false
}

// isFromLine reports whether line (or the start of data) is an mbox
// separator followed by a header field: "From sender date", then "Name:".
func isFromLine(data []byte) bool {
	if !bytes.HasPrefix(data, []byte("From ")) {
		return false
	}
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 || nl > 1000 {
		return false
	}
	next := data[nl+1:]
	colon := bytes.IndexByte(next, ':')
	return colon > 0 && colon < 80 && isFieldName(next[:colon])
}

// mboxStarts returns the offsets of the first max messages' From lines
// (max < 0: all of them).
func mboxStarts(data []byte, max int) []int {
	var starts []int
	for at := 0; at < len(data) && (max < 0 || len(starts) < max); {
		if isFromLine(data[at:]) {
			starts = append(starts, at)
		}
		next := bytes.Index(data[at:], []byte("\n\nFrom "))
		if next < 0 {
			next = bytes.Index(data[at:], []byte("\r\n\r\nFrom "))
			if next < 0 {
				break
			}
			at += next + 4
			continue
		}
		at += next + 2
	}
	return starts
}

func extractMbox(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	starts := mboxStarts(in.Data, -1)
	if len(starts) == 0 {
		return nil, fmt.Errorf("%w: no message in the mailbox", ErrCorrupt)
	}
	res := &Result{Meta: map[string]string{"messages": strconv.Itoa(len(starts))}}
	out := textSink{bud: b}
	var dec mime.WordDecoder
	leftOut := 0
	for i, at := range starts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := len(in.Data)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		msg := in.Data[at:end]
		body := msg[bytes.IndexByte(msg, '\n')+1:] // the message without its From line
		line := "message " + strconv.Itoa(i+1)
		if m, err := mail.ReadMessage(bytes.NewReader(body)); err == nil {
			var parts []string
			for _, k := range []string{"Date", "From", "Subject"} {
				v := m.Header.Get(k)
				if d, err := dec.DecodeHeader(v); err == nil {
					v = d
				}
				if v = strings.Join(strings.Fields(v), " "); v != "" {
					parts = append(parts, strings.ToValidUTF8(v[:min(len(v), metaFieldMax)], ""))
				}
			}
			if len(parts) > 0 {
				line = strings.Join(parts, " · ")
			}
		}
		if i > 0 {
			out.writeByte('\n')
		}
		if !out.writeString(line) {
			break
		}
		if b.lim.MaxChildren >= 0 && len(res.Children) >= b.lim.MaxChildren {
			leftOut++
			continue
		}
		res.Children = append(res.Children, Child{Name: fmt.Sprintf("message-%04d.eml", i+1), Type: typeEmail, Data: body})
	}
	if leftOut > 0 {
		res.Meta["messages_left_out"] = strconv.Itoa(leftOut)
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d messages left out: the mailbox holds more than the children limit of %d; they are listed in its text",
			leftOut, b.lim.MaxChildren))
	}
	res.Text = out.String()
	return res, nil
}
