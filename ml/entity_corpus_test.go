package ml_test

import (
	"bufio"
	"bytes"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/ml"
)

// TestEntitiesSpamAssassinHeaders measures the email and date extractors
// against the SpamAssassin corpus's own headers: the gold sender is the
// address net/mail parses from From, the gold date the day of the Date
// header as written. The extractors read the two header lines as text
// ("From: …\nDate: …"); the first email and the first date they find are
// their answer. Precision is right answers over answers, recall right
// answers over gold values.
func TestEntitiesSpamAssassinHeaders(t *testing.T) {
	root := corpora(t, "spamassassin")
	files, err := filepath.Glob(filepath.Join(root, "*", "*"))
	require.NoError(t, err)
	type score struct{ gold, found, right int }
	var sender, date score
	var misses []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		// An mbox "From " line starts each message; it is not a header.
		if bytes.HasPrefix(raw, []byte("From ")) {
			raw = raw[bytes.IndexByte(raw, '\n')+1:]
		}
		msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			continue // no header to take gold from
		}
		from, when := msg.Header.Get("From"), msg.Header.Get("Date")
		var goldSender, goldDate string
		if a, err := mail.ParseAddress(from); err == nil {
			goldSender = strings.ToLower(a.Address)
			sender.gold++
		}
		if d, err := msg.Header.Date(); err == nil {
			goldDate = d.Format("2006-01-02")
			date.gold++
		}
		var gotSender, gotDate string
		for _, e := range ml.Entities("From: " + from + "\nDate: " + when + "\n") {
			switch {
			case e.Kind == ml.EntityEmail && gotSender == "":
				gotSender = e.Value
			case e.Kind == ml.EntityDate && gotDate == "":
				gotDate = e.Value
			}
		}
		tally := func(s *score, gold, got, what string) {
			if got == "" {
				if gold != "" && len(misses) < 40 {
					misses = append(misses, what+" missed: "+strings.TrimSpace(map[string]string{"sender": from, "date": when}[what]))
				}
				return
			}
			if gold == "" {
				return // no gold to judge the answer by
			}
			s.found++
			if got == gold {
				s.right++
			} else if len(misses) < 40 {
				misses = append(misses, what+" wrong: "+got+" for "+gold)
			}
		}
		tally(&sender, goldSender, gotSender, "sender")
		tally(&date, goldDate, gotDate, "date")
	}
	for _, m := range misses {
		t.Log(m)
	}
	for _, s := range []struct {
		name string
		s    score
	}{{"sender address", sender}, {"date", date}} {
		p := float64(s.s.right) / float64(s.s.found)
		r := float64(s.s.right) / float64(s.s.gold)
		t.Logf("%s: %d gold, %d found, %d right: precision %.4f, recall %.4f", s.name, s.s.gold, s.s.found, s.s.right, p, r)
		require.Greater(t, p, 0.9, s.name)
		require.Greater(t, r, 0.9, s.name)
	}
}
