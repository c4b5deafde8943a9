package jobs

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// encPrefix starts the JSON string that holds encrypted arguments. It names
// the scheme's version, so that a later scheme can be told apart.
const encPrefix = "quire:enc:v1:"

// ArgsEncryptedPlaceholder is what the Inspector shows in place of encrypted
// arguments: the JSON string "encrypted", rather than ciphertext that means
// nothing to a person.
var ArgsEncryptedPlaceholder = json.RawMessage(`"encrypted"`)

// ErrArgsUndecryptable is the reason of a job whose encrypted arguments no
// key of the server's keyring opens (a key was removed too early, or the
// server has no keyring): the job goes to the dead set, since no retry can
// mend it, and can be retried by hand once the key is back.
var ErrArgsUndecryptable = errors.New("arguments cannot be decrypted")

// Key is one AES key of a Keyring.
type Key struct {
	// ID names the key inside every ciphertext it makes, so a reader knows
	// which key opens it: 1 to 32 letters, digits, '_' or '-'.
	ID string
	// Secret is the AES key: 16, 24 or 32 bytes (AES-128, -192, -256).
	Secret []byte
}

// Keyring encrypts job arguments at rest with AES-GCM, as Sidekiq
// Enterprise does, so that a broker's contents (a Redis dump, a backup)
// leak no personal data. The first key encrypts; every key decrypts, so
// keys rotate without losing jobs: put a new key first, keep the old ones
// until no job made with them is left (retries and the dead set included),
// then drop them.
//
// Arguments are encrypted whole, with the job type as additional data, so
// a ciphertext cannot be moved to a job of another type. Arguments that are
// a JSON array become a one-element array, so formats that need an array
// (Sidekiq's) still hold them; any other value becomes a JSON string. Tags,
// headers and other fields are not encrypted.
type Keyring struct {
	keys  []keyringKey
	byID  map[string]cipher.AEAD
	first *keyringKey
}

type keyringKey struct {
	id   string
	aead cipher.AEAD
}

// NewKeyring returns a keyring whose first key encrypts. It refuses an empty
// list, an invalid or repeated key id, and a secret that is not an AES key.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("keyring needs at least one key")
	}
	kr := &Keyring{byID: make(map[string]cipher.AEAD, len(keys))}
	for i, k := range keys {
		if !validName(k.ID, 32, "_-") {
			return nil, fmt.Errorf("key %d: id %q must be 1 to 32 letters, digits, '_' or '-'", i+1, k.ID)
		}
		if _, dup := kr.byID[k.ID]; dup {
			return nil, fmt.Errorf("key %d: id %q is listed twice", i+1, k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		kr.keys = append(kr.keys, keyringKey{id: k.ID, aead: aead})
		kr.byID[k.ID] = aead
	}
	kr.first = &kr.keys[0]
	return kr, nil
}

// Encrypt returns args, the JSON arguments of a job of type jobType,
// encrypted with the first key.
func (kr *Keyring) Encrypt(jobType string, args json.RawMessage) (json.RawMessage, error) {
	k := kr.first
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(args)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("encrypt arguments of %s job: %w", jobType, err)
	}
	sealed := k.aead.Seal(nonce, nonce, args, []byte(jobType))
	s := encPrefix + k.id + ":" + base64.RawStdEncoding.EncodeToString(sealed)
	b, _ := json.Marshal(s) // a string always encodes
	if t := bytes.TrimSpace(args); len(t) > 0 && t[0] == '[' {
		return json.RawMessage("[" + string(b) + "]"), nil
	}
	return b, nil
}

// Decrypt returns the arguments that Encrypt made ciphertext of. Arguments
// that are not encrypted come back as they are, so a keyring can be turned
// on while plain jobs wait. Ciphertext that no key opens is an error that
// wraps ErrArgsUndecryptable.
func (kr *Keyring) Decrypt(jobType string, args json.RawMessage) (json.RawMessage, error) {
	s, ok := encryptedString(args)
	if !ok {
		return args, nil
	}
	if kr == nil {
		return nil, fmt.Errorf("%w: they are encrypted and no keyring is configured", ErrArgsUndecryptable)
	}
	id, data, ok := strings.Cut(strings.TrimPrefix(s, encPrefix), ":")
	if !ok {
		return nil, fmt.Errorf("%w: ciphertext has no key id", ErrArgsUndecryptable)
	}
	aead := kr.byID[id]
	if aead == nil {
		return nil, fmt.Errorf("%w: key %q is not in the keyring", ErrArgsUndecryptable, id)
	}
	sealed, err := base64.RawStdEncoding.DecodeString(data)
	if err != nil || len(sealed) < aead.NonceSize() {
		return nil, fmt.Errorf("%w: ciphertext of key %q is malformed", ErrArgsUndecryptable, id)
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(jobType))
	if err != nil {
		return nil, fmt.Errorf("%w: key %q does not open them for job type %s (altered, or made for another type)",
			ErrArgsUndecryptable, id, jobType)
	}
	return plain, nil
}

// ArgsEncrypted reports whether args are arguments a Keyring encrypted.
func ArgsEncrypted(args json.RawMessage) bool {
	_, ok := encryptedString(args)
	return ok
}

// encryptedString returns the ciphertext string of encrypted arguments: a
// JSON string with the scheme's prefix, alone or as the only element of an
// array.
func encryptedString(args json.RawMessage) (string, bool) {
	t := bytes.TrimSpace(args)
	if len(t) > 1 && t[0] == '[' {
		t = bytes.TrimSpace(t[1 : len(t)-1])
	}
	if !bytes.HasPrefix(t, []byte(`"`+encPrefix)) {
		return "", false
	}
	var s string
	if err := json.Unmarshal(t, &s); err != nil {
		return "", false
	}
	return s, true
}

// encryptMiddleware encrypts the arguments of every job a client enqueues.
// It is the innermost middleware, so that other middleware (tracing, unique
// keys derived from arguments) see the plain arguments.
func encryptMiddleware(kr *Keyring) EnqueueMiddleware {
	return func(next EnqueueFunc) EnqueueFunc {
		return func(ctx context.Context, jobs []*Job) error {
			plain := make([]json.RawMessage, len(jobs))
			for i, j := range jobs {
				enc, err := kr.Encrypt(j.Type, j.Args)
				if err != nil {
					return err
				}
				plain[i], j.Args = j.Args, enc
			}
			err := next(ctx, jobs)
			// The caller gets its jobs back with the arguments it gave.
			for i, j := range jobs {
				j.Args = plain[i]
			}
			return err
		}
	}
}
