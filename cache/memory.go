package cache

import (
	"cmp"
	"container/list"
	"context"
	"sync"
	"time"
)

// MemoryMaxBytesDefault is the default size of a Memory cache.
const MemoryMaxBytesDefault = 64 << 20

// entryOverhead approximates the memory an entry costs beyond its key and
// value (list element, map slot, entry struct), so many tiny entries cannot
// exceed the bound unnoticed.
const entryOverhead = 128

// MemoryOpts configure a Memory cache. The zero value is usable.
type MemoryOpts struct {
	// MaxBytes bounds the keys and values held, with a small overhead per
	// entry; the least recently used go first. Defaults to 64 MiB.
	MaxBytes int64
	// Now tells the time, for tests. Defaults to time.Now.
	Now func() time.Time
}

// Memory is an in-process cache: an LRU bounded by bytes, each entry with its
// own time to live. A byte bound rather than an entry count keeps memory in
// check whatever the values' sizes, and per-entry TTLs match Memcached's, so
// callers see the same behaviour from either (hashicorp/golang-lru's
// expirable LRU has neither: one TTL for all, a count bound).
type Memory struct {
	maxBytes int64
	now      func() time.Time

	mu    sync.Mutex
	ll    *list.List // of *entry, most recently used first
	items map[string]*list.Element
	bytes int64
}

type entry struct {
	key     string
	value   []byte
	expires time.Time // zero: never
}

func (e *entry) size() int64 { return int64(len(e.key)+len(e.value)) + entryOverhead }

var _ Cache = (*Memory)(nil)

// NewMemory returns an empty in-process cache.
func NewMemory(opts *MemoryOpts) *Memory {
	if opts == nil {
		opts = &MemoryOpts{}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Memory{
		maxBytes: cmp.Or(opts.MaxBytes, MemoryMaxBytesDefault),
		now:      now,
		ll:       list.New(),
		items:    map[string]*list.Element{},
	}
}

// Get returns a copy of the value under key.
func (m *Memory) Get(_ context.Context, key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*entry)
	if !e.expires.IsZero() && !m.now().Before(e.expires) {
		m.remove(el)
		return nil, false
	}
	m.ll.MoveToFront(el)
	return clone(e.value), true
}

// Set stores a copy of value. A value larger than the whole cache is not
// stored.
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) {
	e := &entry{key: key, value: clone(value)}
	if ttl > 0 {
		e.expires = m.now().Add(ttl)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.items[key]; ok {
		m.remove(el)
	}
	if e.size() > m.maxBytes {
		return
	}
	m.items[key] = m.ll.PushFront(e)
	m.bytes += e.size()
	for m.bytes > m.maxBytes {
		m.remove(m.ll.Back())
	}
}

// Delete removes the value under key.
func (m *Memory) Delete(_ context.Context, key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.items[key]; ok {
		m.remove(el)
	}
}

// Len returns the number of entries held, expired ones included until they
// are read or evicted.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ll.Len()
}

// Bytes returns the bytes held, as counted against MaxBytes.
func (m *Memory) Bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}

// Close empties the cache.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ll.Init()
	clear(m.items)
	m.bytes = 0
	return nil
}

// remove drops an element; m.mu must be held.
func (m *Memory) remove(el *list.Element) {
	e := m.ll.Remove(el).(*entry)
	delete(m.items, e.key)
	m.bytes -= e.size()
}

// clone copies a value, so neither the caller nor the cache can change the
// other's bytes.
func clone(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return append(make([]byte, 0, len(b)), b...)
}
