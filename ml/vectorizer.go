package ml

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// vector is a sparse feature vector: parallel indexes and values.
type vector struct {
	idx []int32
	val []float64
}

// ngrams appends to dst the word n-grams of terms, from unigrams up to n
// words, joined by a space.
func ngrams(dst []string, terms []string, n int) []string {
	dst = append(dst, terms...)
	var b strings.Builder
	for k := 2; k <= n; k++ {
		for i := 0; i+k <= len(terms); i++ {
			b.Reset()
			for j := i; j < i+k; j++ {
				if j > i {
					b.WriteByte(' ')
				}
				b.WriteString(terms[j])
			}
			dst = append(dst, b.String())
		}
	}
	return dst
}

// vocabularyParams bound the vocabulary fitVocabulary keeps.
type vocabularyParams struct {
	minDF, maxFeatures int
}

// fitVocabulary chooses the features of a model: the n-grams found in at
// least minDF documents, the most frequent maxFeatures of them, and their
// inverse document frequencies (smoothed as ln((1+N)/(1+df)) + 1, so that
// a feature in every document still counts a little).
func fitVocabulary(docs [][]string, p vocabularyParams) (terms []string, idf []float64) {
	df := map[string]int{}
	seen := map[string]bool{}
	for _, d := range docs {
		clear(seen)
		for _, g := range d {
			if !seen[g] {
				seen[g] = true
				df[g]++
			}
		}
	}
	for g, n := range df {
		if n >= p.minDF {
			terms = append(terms, g)
		}
	}
	// Most frequent first, then alphabetical, so that the same data gives
	// the same model.
	slices.SortFunc(terms, func(a, b string) int {
		if c := cmp.Compare(df[b], df[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	if p.maxFeatures > 0 && len(terms) > p.maxFeatures {
		terms = terms[:p.maxFeatures]
	}
	slices.Sort(terms)
	n := float64(len(docs))
	idf = make([]float64, len(terms))
	for i, g := range terms {
		idf[i] = math.Log((1+n)/(1+float64(df[g]))) + 1
	}
	return terms, idf
}

// tfidf weighs the n-grams of one document: sublinear term frequency
// (1 + ln tf) times IDF, scaled to unit length, so that long documents do
// not outvote short ones.
func tfidf(grams []string, vocab map[string]int32, idf []float64) vector {
	counts := map[int32]float64{}
	for _, g := range grams {
		if i, ok := vocab[g]; ok {
			counts[i]++
		}
	}
	v := vector{idx: make([]int32, 0, len(counts)), val: make([]float64, 0, len(counts))}
	for i := range counts {
		v.idx = append(v.idx, i)
	}
	slices.Sort(v.idx)
	var norm float64
	for _, i := range v.idx {
		w := (1 + math.Log(counts[i])) * idf[i]
		v.val = append(v.val, w)
		norm += w * w
	}
	if norm > 0 {
		norm = math.Sqrt(norm)
		for k := range v.val {
			v.val[k] /= norm
		}
	}
	return v
}

// tfidfTerms is tfidf of the n-grams of terms, without building the
// n-gram strings: prediction runs once per document and the strings would
// be most of its allocations. It gives the same vector as
// tfidf(ngrams(nil, terms, n), vocab, idf).
func tfidfTerms(terms []string, n int, vocab map[string]int32, idf []float64) vector {
	v, _ := appendTFIDFTerms(vector{}, nil, terms, n, vocab, idf)
	return v
}

// appendTFIDFTerms is tfidfTerms into the storage of dst's slices and of
// buf (which builds the n-grams), returned for the next call: a caller
// that predicts often keeps them in a pool and allocates nothing here.
func appendTFIDFTerms(dst vector, buf []byte, terms []string, n int, vocab map[string]int32, idf []float64) (vector, []byte) {
	idx := dst.idx[:0]
	if cap(idx) == 0 {
		idx = make([]int32, 0, len(terms)*n)
	}
	for i, t := range terms {
		if f, ok := vocab[t]; ok {
			idx = append(idx, f)
		}
		buf = append(buf[:0], t...)
		for k := 1; k < n && i+k < len(terms); k++ {
			buf = append(buf, ' ')
			buf = append(buf, terms[i+k]...)
			if f, ok := vocab[string(buf)]; ok {
				idx = append(idx, f)
			}
		}
	}
	slices.Sort(idx)
	val := dst.val[:0]
	if cap(val) == 0 {
		val = make([]float64, 0, len(idx))
	}
	v := vector{idx: idx[:0], val: val}
	var norm float64
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && idx[j] == idx[i] {
			j++
		}
		w := (1 + math.Log(float64(j-i))) * idf[idx[i]]
		v.idx = append(v.idx, idx[i])
		v.val = append(v.val, w)
		norm += w * w
		i = j
	}
	if norm > 0 {
		norm = math.Sqrt(norm)
		for k := range v.val {
			v.val[k] /= norm
		}
	}
	return v, buf
}
