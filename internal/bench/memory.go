package bench

import (
	"bufio"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// heapSampler records the peak of the Go heap in use, sampled at an interval.
type heapSampler struct {
	max      atomic.Uint64
	stopOnce sync.Once
	quit     chan struct{}
	exited   chan struct{}
}

func startHeapSampler(every time.Duration) *heapSampler {
	h := &heapSampler{quit: make(chan struct{}), exited: make(chan struct{})}
	h.sample()
	go func() {
		defer close(h.exited)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-h.quit:
				return
			case <-t.C:
				h.sample()
			}
		}
	}()
	return h
}

func (h *heapSampler) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	for {
		cur := h.max.Load()
		if ms.HeapInuse <= cur || h.max.CompareAndSwap(cur, ms.HeapInuse) {
			return
		}
	}
}

// peak returns the largest heap in use seen so far, sampling once more.
func (h *heapSampler) peak() uint64 {
	h.sample()
	return h.max.Load()
}

// stop ends the sampling. It is safe to call more than once.
func (h *heapSampler) stop() {
	h.stopOnce.Do(func() { close(h.quit) })
	<-h.exited
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes. It
// reads /proc, so it works on Linux only.
func peakRSS() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, err
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
