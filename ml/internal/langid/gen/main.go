// Command gen writes langid's model, model.bin.gz, from lingua-go's
// n-gram models: for each language written in a script it shares with
// others, the most frequent n-grams of the chosen orders, each with a
// one-byte score. Run it with go generate in ml/internal/langid; it reads
// lingua's models from the module cache (go list -m finds them), so
// lingua-go stays a dependency of the generator and the tests only.
//
// lingua's models hold, per language and order, each n-gram's relative
// frequency in the Leipzig Wortschatz corpora: for order 1 the share of
// the letter, for higher orders the probability of the last letter after
// the others. The joint probability of an n-gram is the product of the
// chain (P(abc) = P(a) P(b|a) P(c|ab)); n-grams are ranked by it and the
// first K of each order kept. Each kept n-gram is scored by how much
// likelier it is than an unseen one, in units of 1/Scale nat:
//
//	bonus = min(255, round(Scale * (ln p - ln unseen))), kept when ≥ 1
//
// where p is the n-gram's joint probability and unseen the probability
// that an n-gram of that order missing from a language's list is given.
package main

import (
	"archive/zip"
	"bytes"
	"cmp"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pemistahl/lingua-go/serialization"
	"google.golang.org/protobuf/proto"

	"github.com/quirehq/quire/ml/internal/langid/format"
)

// uniqueScript are the languages lingua tells by their script alone: the
// only one of its languages written in it (Greek, Hangul, …) or, for
// Chinese and Japanese, Han without and with kana. They need no n-grams.
var uniqueScript = map[string]bool{
	"bn": true, "el": true, "gu": true, "he": true, "hy": true, "ja": true, "ka": true,
	"ko": true, "pa": true, "ta": true, "te": true, "th": true, "zh": true,
}

var orderNames = map[int]string{1: "unigrams", 2: "bigrams", 3: "trigrams", 4: "quadrigrams", 5: "fivegrams"}

func main() {
	log.SetFlags(0)
	log.SetPrefix("langid/gen: ")
	orders := flag.String("orders", "2:1000:-10.5,3:4000:-12,4:3000:-13", "n-gram orders to keep, each order:K:ln(unseen), comma separated")
	out := flag.String("out", "model.bin.gz", "file to write")
	dir := flag.String("lingua", "", "lingua-go's module directory; defaults to the one go list -m finds")
	verbose = flag.Bool("v", false, "log each language's n-gram counts")
	flag.Parse()
	if err := run(*orders, *out, *dir); err != nil {
		log.Fatal(err)
	}
}

var verbose *bool

type order struct {
	n      int
	k      int
	unseen float64 // ln of an unseen n-gram's probability
}

func parseOrders(s string) ([]order, error) {
	var os []order
	for f := range strings.SplitSeq(s, ",") {
		p := strings.Split(f, ":")
		if len(p) != 3 {
			return nil, fmt.Errorf("order %q: want n:K:ln(unseen)", f)
		}
		n, err1 := strconv.Atoi(p[0])
		k, err2 := strconv.Atoi(p[1])
		u, err3 := strconv.ParseFloat(p[2], 64)
		if err := errors.Join(err1, err2, err3); err != nil || n < 1 || n > format.MaxOrder || k < 1 || u >= 0 {
			return nil, fmt.Errorf("order %q: want n in 1..%d, K > 0, ln(unseen) < 0", f, format.MaxOrder)
		}
		os = append(os, order{n, k, u})
	}
	return os, nil
}

func run(orderSpec, out, dir string) error {
	orders, err := parseOrders(orderSpec)
	if err != nil {
		return err
	}
	maxN := 0
	for _, o := range orders {
		maxN = max(maxN, o.n)
	}
	if dir == "" {
		b, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/pemistahl/lingua-go").Output()
		if err != nil {
			return fmt.Errorf("finding lingua-go (go mod download github.com/pemistahl/lingua-go): %w", err)
		}
		dir = strings.TrimSpace(string(b))
	}
	entries, err := os.ReadDir(filepath.Join(dir, "language-models"))
	if err != nil {
		return err
	}
	m := &format.Model{Scale: format.Scale}
	for _, o := range orders {
		m.Orders = append(m.Orders, o.n)
	}
	type kept struct {
		runes []rune
		lang  int
		bonus uint8
	}
	var all []kept
	for _, e := range entries {
		lang := e.Name()
		if uniqueScript[lang] {
			continue
		}
		li := len(m.Langs)
		m.Langs = append(m.Langs, lang)
		joint := map[string]float64{}
		for n := 1; n <= maxN; n++ {
			cond, err := readModel(filepath.Join(dir, "language-models", lang, orderNames[n]+".pb.bin.zip"))
			if err != nil {
				return fmt.Errorf("%s: %w", lang, err)
			}
			for g, p := range cond {
				if n > 1 {
					r := []rune(g)
					pre, ok := joint[string(r[:n-1])]
					if !ok {
						continue
					}
					p *= pre
				}
				joint[g] = p
			}
		}
		counts := ""
		for _, o := range orders {
			var grams []string
			for g := range joint {
				if len([]rune(g)) == o.n {
					grams = append(grams, g)
				}
			}
			slices.SortFunc(grams, func(a, b string) int {
				return cmp.Or(cmp.Compare(joint[b], joint[a]), strings.Compare(a, b))
			})
			for _, g := range grams[:min(o.k, len(grams))] {
				b := math.Round(format.Scale * (math.Log(joint[g]) - o.unseen))
				if b < 1 {
					continue
				}
				all = append(all, kept{[]rune(g), li, uint8(min(b, 255))})
			}
			counts += fmt.Sprintf(" %d:%d", o.n, len(grams))
		}
		if *verbose {
			log.Printf("%s: n-grams of each order%s", lang, counts)
		}
	}
	// The alphabet: every letter of a kept n-gram, by frequency of use, so
	// that the commonest letters get the smallest indexes.
	seen := map[rune]int{}
	for _, k := range all {
		for _, r := range k.runes {
			seen[r]++
		}
	}
	for r := range seen {
		m.Alphabet = append(m.Alphabet, r)
	}
	slices.SortFunc(m.Alphabet, func(a, b rune) int { return cmp.Or(cmp.Compare(seen[b], seen[a]), cmp.Compare(a, b)) })
	if len(m.Alphabet) >= 1<<format.LetterBits {
		return fmt.Errorf("%d letters, at most %d fit", len(m.Alphabet), 1<<format.LetterBits-1)
	}
	index := map[rune]uint64{}
	for i, r := range m.Alphabet {
		index[r] = uint64(i + 1)
	}
	grams := map[uint64][]format.Posting{}
	for _, k := range all {
		var key uint64
		for _, r := range k.runes {
			key = key<<format.LetterBits | index[r]
		}
		grams[key] = append(grams[key], format.Posting{Lang: uint8(k.lang), Bonus: k.bonus})
	}
	for key := range grams {
		m.Keys = append(m.Keys, key)
	}
	slices.Sort(m.Keys)
	for _, key := range m.Keys {
		m.Counts = append(m.Counts, uint8(len(grams[key])))
		m.Postings = append(m.Postings, grams[key]...)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err := m.Write(zw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	log.Printf("%d languages, %d letters, %d n-grams, %d postings: %d bytes", len(m.Langs), len(m.Alphabet), len(m.Keys), len(m.Postings), buf.Len())
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// readModel reads one of lingua's zipped protobuf models: n-gram to
// relative frequency.
func readModel(path string) (map[string]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(z.File) != 1 {
		return nil, fmt.Errorf("%s: %d files, want 1", path, len(z.File))
	}
	f, err := z.File[0].Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	var pm serialization.SerializableLanguageModel
	if err := proto.Unmarshal(raw, &pm); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	freq := make(map[string]float64, pm.TotalNgrams)
	for _, set := range pm.NgramSets {
		for _, g := range set.Ngrams {
			freq[g] = set.Probability
		}
	}
	return freq, nil
}
