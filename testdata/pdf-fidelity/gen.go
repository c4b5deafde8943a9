//go:build ignore

// gen writes annotated.pdf: one page of text with the annotations a reader
// adds (a sticky note and its popup, a text box, a comment on a highlight,
// a link) and an interactive form (a text field under a parent field, a
// check box that is on and one that is off). Its text is the Universal
// Declaration of Human Rights, each passage labelled with where it is.
// It also writes two encrypted copies whose strings and streams use
// different crypt filters, which qpdf cannot write. Run it from this
// directory with `go run gen.go`, then `sh gen.sh` for qpdf's encrypted
// copies; the tests assert on the passages below.
package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rc4"
	"fmt"
	"log"
	"os"
	"regexp"
	"slices"
	"strings"
)

func main() {
	content := "BT /F1 14 Tf 72 720 Td (Article 1 of the Universal Declaration of Human Rights) Tj ET\n" +
		"BT /F1 12 Tf 72 690 Td (All human beings are born free and equal in dignity and rights.) Tj ET\n"
	objs := []string{
		/* 1 */ `<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [10 0 R 12 0 R 13 0 R 16 0 R] /NeedAppearances true >> >>`,
		/* 2 */ `<< /Type /Pages /Kids [3 0 R] /Count 1 >>`,
		/* 3 */ `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> /Annots [6 0 R 7 0 R 8 0 R 9 0 R 11 0 R 12 0 R 13 0 R 14 0 R 16 0 R] >>`,
		/* 4 */ fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
		/* 5 */ `<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>`,
		/* 6 */ `<< /Type /Annot /Subtype /Text /Rect [500 700 520 720] /Contents (Sticky note: Eleanor Roosevelt chaired the drafting committee.) /Popup 7 0 R /T (Quire) >>`,
		/* 7 */ `<< /Type /Annot /Subtype /Popup /Rect [520 600 612 700] /Parent 6 0 R >>`,
		/* 8 */ `<< /Type /Annot /Subtype /FreeText /Rect [72 600 400 640] /Contents (Text box annotation: adopted in Paris on 10 December 1948.) /DA (/Helv 10 Tf 0 g) >>`,
		/* 9 */ `<< /Type /Annot /Subtype /Highlight /Rect [72 685 400 705] /QuadPoints [72 705 400 705 72 685 400 685] /Contents (Highlight comment: the first sentence of Article 1.) /C [1 1 0] >>`,
		/* 10 */ `<< /T (declaration) /FT /Tx /V (Paris) /Kids [11 0 R] >>`,
		/* 11 */ `<< /Type /Annot /Subtype /Widget /Parent 10 0 R /Rect [72 530 300 550] /DA (/Helv 10 Tf 0 g) >>`,
		/* 12 */ `<< /Type /Annot /Subtype /Widget /T (adopted) /FT /Btn /V /Yes /AS /Yes /Rect [72 470 90 488] /AP << /N << /Yes 15 0 R /Off 15 0 R >> >> >>`,
		/* 13 */ `<< /Type /Annot /Subtype /Widget /T (rejected) /FT /Btn /V /Off /AS /Off /Rect [72 440 90 458] /AP << /N << /Yes 15 0 R /Off 15 0 R >> >> >>`,
		/* 14 */ `<< /Type /Annot /Subtype /Link /Rect [72 715 400 735] /A << /S /URI /URI (https://www.un.org/en/about-us/universal-declaration-of-human-rights) >> /Contents (Link) >>`,
		/* 15 */ "<< /Type /XObject /Subtype /Form /BBox [0 0 18 18] /Length 0 >>\nstream\n\nendstream",
		/* 16 */ `<< /Type /Annot /Subtype /Widget /T (applicant) /FT /Tx /V (Rene Cassin) /Rect [72 500 300 520] /DA (/Helv 10 Tf 0 g) >>`,
	}
	write("annotated.pdf", objs, "")
	// Encrypted with an empty user password, one of strings and streams in
	// the clear: a crypt filter for each is allowed (ISO 32000-1, 7.6.5)
	// and written by some producers; readers that insist on one filter for
	// both take such a file for one with a password.
	write("mixed-strings-clear.pdf", encrypt(objs, true, false), mixedEncrypt("/StmF /StdCF /StrF /Identity"))
	write("mixed-streams-clear.pdf", encrypt(objs, false, true), mixedEncrypt("/StmF /Identity /StrF /StdCF"))
}

// The file's first identifier, which the file key is made from.
const fileID = "Quire-annotated!"

// pad is the padding of passwords (ISO 32000-1, 7.6.3.3, algorithm 2).
var pad = []byte("\x28\xBF\x4E\x5E\x4E\x75\x8A\x41\x64\x00\x4E\x56\xFF\xFA\x01\x08\x2E\x2E\x00\xB6\xD0\x68\x3E\x80\x2F\x0C\xA9\xFE\x64\x53\x69\x7A")

const permissions = -4

// keys returns the O and U entries and the file key of the standard
// security handler, revision 4, 128-bit, for an empty user password and
// the owner password quire-owner (algorithms 2, 3 and 5).
func keys() (o, u, key []byte) {
	h := md5.Sum(append([]byte("quire-owner"), pad[:32-len("quire-owner")]...))
	for range 50 {
		h = md5.Sum(h[:])
	}
	o = rc4Rounds(h[:], pad)
	pi := int32(permissions)
	p := uint32(pi)
	sum := md5.Sum(slices.Concat(pad, o, []byte{byte(p), byte(p >> 8), byte(p >> 16), byte(p >> 24)}, []byte(fileID)))
	for range 50 {
		sum = md5.Sum(sum[:])
	}
	key = sum[:]
	hu := md5.Sum(slices.Concat(pad, []byte(fileID)))
	u = append(rc4Rounds(key, hu[:]), make([]byte, 16)...)
	return o, u, key
}

// rc4Rounds encrypts data with key, then 19 more times with the key's bytes
// XORed with the round's number.
func rc4Rounds(key, data []byte) []byte {
	out := slices.Clone(data)
	k := make([]byte, len(key))
	for i := range 20 {
		for j := range key {
			k[j] = key[j] ^ byte(i)
		}
		c, _ := rc4.NewCipher(k)
		c.XORKeyStream(out, out)
	}
	return out
}

// aesObject encrypts data for object n with AESV2 (algorithm 1), its IV
// made from the object's number so that the files are the same each run.
func aesObject(key []byte, n int, data []byte) []byte {
	k := md5.Sum(slices.Concat(key, []byte{byte(n), byte(n >> 8), byte(n >> 16), 0, 0}, []byte("sAlT")))
	block, _ := aes.NewCipher(k[:])
	padded := append(slices.Clone(data), bytes.Repeat([]byte{byte(16 - len(data)%16)}, 16-len(data)%16)...)
	iv := md5.Sum([]byte(fmt.Sprint("iv", n, len(data))))
	out := append(iv[:], make([]byte, len(padded))...)
	cipher.NewCBCEncrypter(block, iv[:]).CryptBlocks(out[16:], padded)
	return out
}

var (
	literal = regexp.MustCompile(`\(([^()]*)\)`)
	stream  = regexp.MustCompile(`(?s)^<< /Length \d+(.*?)>>\nstream\n(.*)endstream$`)
)

// encrypt encrypts the streams or the literal strings (none of which
// nest or escape parentheses) of objs.
func encrypt(objs []string, streams, strs bool) []string {
	_, _, key := keys()
	out := make([]string, len(objs))
	for i, o := range objs {
		n := i + 1
		if m := stream.FindStringSubmatch(o); m != nil && streams {
			data := aesObject(key, n, []byte(m[2]))
			o = fmt.Sprintf("<< /Length %d%s>>\nstream\n%s\nendstream", len(data), m[1], data)
		}
		if strs {
			dict, body := o, ""
			if i := strings.Index(o, ">>\nstream\n"); i >= 0 {
				dict, body = o[:i], o[i:]
			}
			dict = literal.ReplaceAllStringFunc(dict, func(s string) string {
				return fmt.Sprintf("<%x>", aesObject(key, n, []byte(s[1:len(s)-1])))
			})
			o = dict + body
		}
		out[i] = o
	}
	return out
}

// mixedEncrypt is the encryption dictionary, AESV2 with filters as given.
func mixedEncrypt(filters string) string {
	o, u, _ := keys()
	return fmt.Sprintf("<< /Filter /Standard /V 4 /R 4 /Length 128 /CF << /StdCF << /AuthEvent /DocOpen /CFM /AESV2 /Length 16 >> >> %s /O <%x> /U <%x> /P %d >>", filters, o, u, permissions)
}

// write writes objs as a PDF file, encrypted with the dictionary enc when
// it is not empty.
func write(name string, objs []string, enc string) {
	if enc != "" {
		objs = append(slices.Clone(objs), enc)
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	encrypt := ""
	if enc != "" {
		encrypt = fmt.Sprintf(" /Encrypt %d 0 R", len(objs))
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R%s /ID [<%x><%x>] >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, encrypt, fileID, fileID, xref)
	if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
