package langid

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIdentify(t *testing.T) {
	t.Parallel()
	id, err := New(nil)
	require.NoError(t, err)
	for _, c := range []struct{ text, want string }{
		{"All human beings are born free and equal in dignity and rights.", "en"},
		{"Alle Menschen sind frei und gleich an Würde und Rechten geboren.", "de"},
		{"Tous les êtres humains naissent libres et égaux en dignité et en droits.", "fr"},
		{"Todos los seres humanos nacen libres e iguales en dignidad y derechos.", "es"},
		{"Все люди рождаются свободными и равными в своем достоинстве и правах.", "ru"},
		{"Усі люди народжуються вільними і рівними у своїй гідності та правах.", "uk"},
		{"يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق.", "ar"},
		{"सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता और समानता प्राप्त है।", "hi"},
		{"Όλοι οι άνθρωποι γεννιούνται ελεύθεροι και ίσοι στην αξιοπρέπεια και τα δικαιώματα.", "el"},
		{"모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다.", "ko"},
		{"人人生而自由，在尊严和权利上一律平等。", "zh"},
		{"すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。", "ja"},
		{"ทุกคนเกิดมามีอิสระและเสมอภาคกันในเกียรติศักดิ์และสิทธิ", "th"},
		{"", ""},
		{"12 345 — 678", ""},
	} {
		got, conf := id.Identify(c.text)
		require.Equal(t, c.want, got, c.text)
		require.True(t, conf >= 0 && conf <= 1, "%s: confidence %v", c.text, conf)
		if c.want != "" {
			require.Greater(t, conf, 0.5, c.text)
		} else {
			require.Zero(t, conf, c.text)
		}
	}
}

func TestIdentifyAmong(t *testing.T) {
	t.Parallel()
	id, err := New([]string{"EN", "de"})
	require.NoError(t, err)
	got, _ := id.Identify("Tous les êtres humains naissent libres et égaux en dignité et en droits.")
	require.Contains(t, []string{"en", "de"}, got)
	got, conf := id.Identify("Όλοι οι άνθρωποι γεννιούνται ελεύθεροι και ίσοι.")
	require.Equal(t, "", got, "Greek is not among the languages")
	require.Zero(t, conf)
	got, _ = id.Identify("Все люди рождаются свободными и равными.")
	require.Equal(t, "", got, "no Cyrillic language among them")

	_, err = New([]string{"en", "xx"})
	require.ErrorContains(t, err, `unknown language "xx"`)
}

func TestLanguages(t *testing.T) {
	t.Parallel()
	m, err := loadModel()
	require.NoError(t, err)
	require.Len(t, Languages(), 75)
	for i, l := range m.langs {
		require.NotContains(t, uniqueScripts, m.scripts[i], l)
	}
	require.Len(t, m.langs, len(sharedScripts), "every language of a shared script has n-grams")
}

// TestIdentifyAllocs is not parallel: AllocsPerRun counts the process's
// allocations.
func TestIdentifyAllocs(t *testing.T) {
	id, err := New(nil)
	require.NoError(t, err)
	text := "Whereas recognition of the inherent dignity and of the equal and inalienable rights of all members of the human family is the foundation of freedom, justice and peace in the world."
	require.Zero(t, testing.AllocsPerRun(100, func() { id.Identify(text) }))
}

// TestIdentifyDecidedEarly checks that a text plainly in one language is
// named from its beginning: what follows, once the lead is decided, is not
// read. Without the early end the longer French (or English) part would
// outweigh the first.
func TestIdentifyDecidedEarly(t *testing.T) {
	t.Parallel()
	id, err := New(nil)
	require.NoError(t, err)
	en := "All human beings are born free and equal in dignity and rights. They are endowed with " +
		"reason and conscience and should act towards one another in a spirit of brotherhood. " +
		"Everyone is entitled to all the rights and freedoms set forth in this Declaration. "
	fr := "Tous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont doués " +
		"de raison et de conscience et doivent agir les uns envers les autres dans un esprit de fraternité. "
	for _, c := range []struct {
		first, rest, want string
	}{{en, fr, "en"}, {fr + fr, en, "fr"}} {
		lang, conf := id.Identify(c.first)
		require.Equal(t, c.want, lang)
		require.Greater(t, conf, 0.99)
		lang, _ = id.Identify(c.first + strings.Repeat(c.rest, 12))
		require.Equal(t, c.want, lang, "the start decides")
		// Below the first look, the whole text is weighed.
		lang, _ = id.Identify(c.first[:60] + strings.Repeat(c.rest, 12))
		require.NotEqual(t, c.want, lang)
	}
}
