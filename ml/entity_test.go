package ml_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/ml"
)

func TestValidIBAN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, iban string
		valid      bool
	}{
		{"german example", "DE89 3704 0044 0532 0130 00", true},
		{"british example", "GB82 WEST 1234 5698 7654 32", true},
		{"french with letters in the account", "FR14 2004 1010 0505 0001 3M02 606", true},
		{"lower case, no spaces", "gb82west12345698765432", true},
		{"one digit changed", "DE89 3704 0044 0532 0130 01", false},
		{"two digits swapped", "DE89 3704 0044 0532 0103 00", false},
		{"check digits wrong", "GB83 WEST 1234 5698 7654 32", false},
		{"too short for its country", "DE89 3704 0044 0532 0130 0", false},
		{"unknown country", "ZZ89 3704 0044 0532 0130 00", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.valid, ml.ValidIBAN(tt.iban))
		})
	}
}

// found returns the entities of text as "kind=value" strings.
func found(text string) []string {
	var out []string
	for _, e := range ml.Entities(text) {
		out = append(out, e.Kind+"="+e.Value)
	}
	return out
}

func TestEntities(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		want       []string
	}{
		{"iban in groups", "Please pay to DE89 3704 0044 0532 0130 00 by Friday.", []string{"iban=DE89370400440532013000"}},
		{"iban with a bad checksum is no entity", "Account DE89 3704 0044 0532 0130 01 closed.", nil},
		{"email", "Write to Jane.Doe@Example.COM today.", []string{"email=jane.doe@example.com"}},
		{"url without the full stop", "See http://www.spamassassin.org/tag/. Or (https://example.com/a_(b)).", []string{"url=http://www.spamassassin.org/tag/", "url=https://example.com/a_(b)"}},
		{"url holding an address stays a url", "http://lists.example.org/mailman/listinfo/user@example.org", []string{"url=http://lists.example.org/mailman/listinfo/user@example.org"}},
		{"dates", "On 2002-08-22, 22 Aug 2002, August 23, 2002, 08/24/2002 and 25.08.2002.", []string{"date=2002-08-22", "date=2002-08-22", "date=2002-08-23", "date=2002-08-24", "date=2002-08-25"}},
		{"addresses with atext, quotes left out", "From: 'Tiarnan.O'Corrain@cmg.com' and <online#3.19@newsletter.online.com>", []string{"email=tiarnan.o'corrain@cmg.com", "email=online#3.19@newsletter.online.com"}},
		{"two-digit year before a time", "Date: Fri, 29 Jun 01 01:03:58 EST; not 29 Jun 01 alone", []string{"date=2001-06-29"}},
		{"digit patterns far apart in long prose", strings.Repeat("words without numbers ", 40) + "met on September 22nd, 2002 and paid 5 million dollars. " +
			strings.Repeat("more plain words here ", 40) + "Telephone: (415) 555-0132.", []string{"date=2002-09-22", "money=USD 5000000", "phone=4155550132"}},
		{"no 31st of April", "due 31 April 2002", nil},
		{"money", "It costs $1,234.50, or EUR 1.234,50, or 5 million dollars.", []string{"money=USD 1234.50", "money=EUR 1234.50", "money=USD 5000000"}},
		{"phones", "Call (415) 555-0132 or +44 20 7946 0958. Tel: 0049 30 1234567", []string{"phone=4155550132", "phone=+442079460958", "phone=+49301234567"}},
		{"people and places", "Yesterday Alice Walker flew from New York to Berlin with Dr. Strangelove.", []string{"person=Alice Walker", "place=New York", "place=Berlin", "person=Strangelove"}},
		{"a place is not a surname", "Paul Paris", []string{"place=Paris"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, found(tt.text))
		})
	}
}

// TestEntitySpans checks that every span holds what was found.
func TestEntitySpans(t *testing.T) {
	t.Parallel()
	text := "Mail bob@example.org, pay GB82 WEST 1234 5698 7654 32 ($12.00) by 2002-09-01; see www.example.com."
	es := ml.Entities(text)
	require.Len(t, es, 5)
	for _, e := range es {
		span := text[e.Start:e.End]
		switch e.Kind {
		case ml.EntityIBAN:
			require.Equal(t, "GB82 WEST 1234 5698 7654 32", span)
		case ml.EntityMoney:
			require.Equal(t, "$12.00", span)
		default:
			require.Contains(t, []string{"bob@example.org", "2002-09-01", "www.example.com"}, span, fmt.Sprint(e))
		}
		require.Greater(t, e.Confidence, 0.0)
		require.LessOrEqual(t, e.Confidence, 1.0)
	}
	var _ ml.Entity = es[0]
}
