package k8s

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The memory budget of a worker, as docs/operations.md ("Memory budget")
// states it: the process, one PDF engine, and for each job it runs at once
// twice the document limit (the document, and the members of an archive,
// which together stay under the limit) and eight times the text limit.
const (
	budgetProcess   = 224 << 20
	budgetTextTimes = 8
	// The binary's defaults, for a setting a container leaves unset.
	maxDocumentDefault = 100 << 20
	maxTextDefault     = 16 << 20
	maxPDFDefault      = 192 << 20
	concurrencyDefault = 10
)

// documentQueues are the queues whose jobs read documents.
var documentQueues = []string{"extract", "analyze", "ocr"}

// checkMemoryBudget: every worker that runs document jobs has a memory
// limit no lower than its budget, computed from its own --concurrency and
// QUIRE_MAX_* settings, so that no document, however hostile, gets a pod
// OOM-killed.
func checkMemoryBudget(r *rendering) []error {
	var errs []error
	for _, w := range r.workloads() {
		for _, c := range w.template.Spec.Containers {
			if len(c.Args) == 0 || c.Args[0] != "serve" || !readsDocuments(r, w.Namespace, &c) {
				continue
			}
			size := func(flag string, def int64) int64 {
				v, ok := setting(r, w.Namespace, &c, flag)
				if !ok {
					return def
				}
				n, err := parseSize(v)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s container %s: --%s %q: %w", w, c.Name, flag, v, err))
				}
				return n
			}
			doc := size("max-document-bytes", maxDocumentDefault)
			text := size("max-text-bytes", maxTextDefault)
			pdf := size("max-pdf-memory", maxPDFDefault)
			jobs := int64(concurrencyDefault)
			if v, ok := setting(r, w.Namespace, &c, "concurrency"); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s container %s: --concurrency %q: %w", w, c.Name, v, err))
				}
				jobs = n
			}
			if text < 0 {
				errs = append(errs, fmt.Errorf("%s container %s: --max-text-bytes -1 leaves a worker's memory unbounded", w, c.Name))
				continue
			}
			need := budgetProcess + pdf + jobs*(2*doc+budgetTextTimes*text)
			limit, ok := c.Resources.Limits[corev1.ResourceMemory]
			if ok && limit.Value() < need {
				errs = append(errs, fmt.Errorf("%s container %s: memory limit %s < budget %d MiB (224 MiB + PDF %d MiB + %d jobs × (2 × %d MiB + 8 × %d MiB))",
					w, c.Name, limit.String(), need>>20, pdf>>20, jobs, doc>>20, text>>20))
			}
		}
	}
	return errs
}

// readsDocuments reports whether a serve container is a worker of any
// document queue.
func readsDocuments(r *rendering, ns string, c *corev1.Container) bool {
	if role, _ := setting(r, ns, c, "role"); role != "worker" {
		return false
	}
	queues, _ := setting(r, ns, c, "queues")
	for _, q := range strings.Split(queues, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(q), "=")
		if slices.Contains(documentQueues, name) {
			return true
		}
	}
	return false
}

// parseSize reads a size as the binary does: bytes, or a number with a
// binary unit (KiB, MiB, GiB).
func parseSize(s string) (int64, error) {
	mult := int64(1)
	t := strings.TrimSpace(s)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if v, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return 0, fmt.Errorf("not a size (bytes, or a number of KiB, MiB or GiB)")
	}
	return int64(n * float64(mult)), nil
}
